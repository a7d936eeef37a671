// A transaction sent together ends as soon as its last statement reached the connection, not a
// turn of the event loop later; one whose statements never all arrive ends after that turn.
import { describe, expect, it } from 'vitest';
import { statementsArriving } from './statements-arriving.js';

/** What happened first: the wait of `wait()` ending, or an immediate queued before it began. */
async function firstOf(wait: () => Promise<void>): Promise<string[]> {
  const order: string[] = [];
  setImmediate(() => order.push('turn'));
  await wait().then(() => order.push('all'));
  await new Promise((resolve) => setImmediate(resolve));
  return order;
}

describe('statementsArriving', () => {
  it('ends the wait when the last statement arrives, before the turn ends', async () => {
    const arriving = statementsArriving();
    const order = firstOf(() => arriving.all(2));
    queueMicrotask(() => arriving.arrived('a'));
    queueMicrotask(() => queueMicrotask(() => arriving.arrived('b')));
    expect(await order).toEqual(['all', 'turn']);
  });

  it('counts statements that arrived before it was asked', async () => {
    const arriving = statementsArriving();
    expect(arriving.arrived('a')).toBe('a');
    expect(await firstOf(() => arriving.all(1))).toEqual(['all', 'turn']);
  });

  it('waits one turn at most when fewer arrive (one failed before it was sent)', async () => {
    const arriving = statementsArriving();
    arriving.arrived('a');
    expect(await firstOf(() => arriving.all(2))).toEqual(['turn', 'all']);
  });
});
