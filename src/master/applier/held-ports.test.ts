// HeldPorts: the lowest unheld port, with the run of held ports it last walked kept exact.
import { describe, expect, it } from 'vitest';
import { HeldPorts } from './held-ports.js';

describe('HeldPorts', () => {
  it('answers the lowest port at or above `from` that no app holds', () => {
    const held = new HeldPorts();
    held.count([10000, 10001, 10003], 1);
    expect(held.firstUnheld(10000)).toBe(10002);
    held.count([10002], 1);
    expect(held.firstUnheld(10000)).toBe(10004);
  });

  it('answers a port freed inside the walked run, not the end of the run', () => {
    const held = new HeldPorts();
    held.count([10000, 10001, 10002, 10003], 1);
    expect(held.firstUnheld(10000)).toBe(10004);
    held.count([10001], -1);
    expect(held.firstUnheld(10000)).toBe(10001);
    held.count([10001], 1);
    expect(held.firstUnheld(10000)).toBe(10004);
  });

  it('keeps a port held while another app still holds it', () => {
    const held = new HeldPorts();
    held.count([10000], 1);
    held.count([10000], 1);
    held.count([10000], -1);
    expect(held.holders(10000)).toBe(1);
    expect(held.firstUnheld(10000)).toBe(10001);
  });

  it('walks from another `from` without trusting the run of the first', () => {
    const held = new HeldPorts();
    held.count([10000, 10001, 12000], 1);
    expect(held.firstUnheld(10000)).toBe(10002);
    expect(held.firstUnheld(12000)).toBe(12001);
    expect(held.firstUnheld(9000)).toBe(9000);
    expect(held.firstUnheld(10000)).toBe(10002);
  });

  it('matches a plain walk from the start over a random history of holds and frees', () => {
    const held = new HeldPorts();
    const plain = new Map<number, number>();
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let step = 0; step < 5000; step++) {
      const port = 100 + random(40);
      const by = random(3) === 0 && (plain.get(port) ?? 0) > 0 ? -1 : 1;
      held.count([port], by);
      plain.set(port, (plain.get(port) ?? 0) + by);
      let expected = 100;
      while ((plain.get(expected) ?? 0) > 0) expected++;
      expect(held.firstUnheld(100)).toBe(expected);
    }
  });
});
