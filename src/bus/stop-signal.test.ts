// The stop signal: a race settles as its promise does until stop(), then rejects with the reason;
// and a settled race leaves nothing behind that would keep its reply alive.
import { describe, expect, it } from 'vitest';
import { gcFunction } from '../lib/gc-function.js';
import { createStopSignal, type StopSignal } from './stop-signal.js';

/** Races `count` replies to their end, in a frame of its own: nothing here keeps them. */
async function raceReplies(signal: StopSignal, count: number): Promise<WeakRef<object>[]> {
  const refs: WeakRef<object>[] = [];
  for (let i = 0; i < count; i++) {
    const reply = { i };
    refs.push(new WeakRef(reply));
    await signal.race(Promise.resolve(reply));
  }
  return refs;
}

describe('createStopSignal', () => {
  it('settles a race as its promise settles', async () => {
    const signal = createStopSignal();
    await expect(signal.race(Promise.resolve('reply'))).resolves.toBe('reply');
    await expect(signal.race(Promise.reject(new Error('lost')))).rejects.toThrow('lost');
  });

  it('rejects current and later races with the first stop reason', async () => {
    const signal = createStopSignal();
    const pending = signal.race(new Promise<never>(() => {}));
    signal.stop(new Error('closing'));
    signal.stop(new Error('again'));
    await expect(pending).rejects.toThrow('closing');
    await expect(signal.race(Promise.resolve('late'))).rejects.toThrow('closing');
  });

  it('keeps no reply of a settled race reachable while the signal lives', async () => {
    const signal = createStopSignal();
    const refs = await raceReplies(signal, 10);
    // WeakRefs hold their targets until the current job ends.
    await new Promise((resolve) => setImmediate(resolve));
    gcFunction()();
    expect(refs.filter((ref) => ref.deref() !== undefined)).toEqual([]);
    signal.stop(new Error('done'));
  });
});
