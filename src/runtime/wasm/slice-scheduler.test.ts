// Weighted fair queuing of resident tasks' slices: thread time in proportion to `cpus`, and the
// hard cap's wait, on a clock the test moves (each turn "takes" what the test says).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSliceScheduler } from './slice-scheduler.js';

afterEach(() => {
  vi.useRealTimers();
});

/** A scheduler whose turns each take `costMs` on its clock, and CPU-bound tasks that re-queue. */
function harness() {
  let clock = 0;
  const scheduler = createSliceScheduler({ now: () => clock });
  const spin = (taskId: string, costMs: number) => {
    const turn = () => {
      clock += costMs;
      scheduler.ready(taskId, turn);
    };
    return turn;
  };
  return { scheduler, spin, time: () => clock };
}

describe('slice scheduler', () => {
  it('gives two busy tasks thread time in proportion to their cpus (0.5 : 0.25 → 2 : 1)', async () => {
    vi.useFakeTimers();
    const { scheduler, spin } = harness();
    scheduler.register('a', { cpus: 0.5, isHardCapped: false });
    scheduler.register('b', { cpus: 0.25, isHardCapped: false });
    scheduler.ready('a', spin('a', 5));
    scheduler.ready('b', spin('b', 5));
    for (let i = 0; i < 300; i++) await vi.advanceTimersToNextTimerAsync();
    const ratio = scheduler.usedMs('a') / scheduler.usedMs('b');
    expect(ratio).toBeGreaterThan(1.9);
    expect(ratio).toBeLessThan(2.1);
  });

  it('gives a task back from a sleep no credit for the time it was away', async () => {
    vi.useFakeTimers();
    const { scheduler, spin } = harness();
    scheduler.register('busy', { cpus: 1, isHardCapped: false });
    scheduler.register('late', { cpus: 1, isHardCapped: false });
    scheduler.ready('busy', spin('busy', 1));
    for (let i = 0; i < 100; i++) await vi.advanceTimersToNextTimerAsync();
    scheduler.ready('late', spin('late', 1));
    for (let i = 0; i < 100; i++) await vi.advanceTimersToNextTimerAsync();
    // Equal weights from the moment it came back: about half each, not 100 turns of catching up.
    expect(scheduler.usedMs('late')).toBeGreaterThan(40);
    expect(scheduler.usedMs('late')).toBeLessThan(60);
  });

  it('with a hard cap, lets a task of 0.5 cpus wait as long as its slice took before the next', async () => {
    vi.useFakeTimers();
    const { scheduler, spin } = harness();
    scheduler.register('capped', { cpus: 0.5, isHardCapped: true });
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    scheduler.ready('capped', spin('capped', 8));
    await vi.advanceTimersToNextTimerAsync(); // the first turn runs
    expect(setTimeoutSpy).toHaveBeenCalledWith(expect.any(Function), 8);
  });

  it('with a hard cap, owes the waits of slices too short for a timer, and waits them out', async () => {
    vi.useFakeTimers();
    const { scheduler, spin } = harness();
    scheduler.register('capped', { cpus: 0.5, isHardCapped: true });
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    // Turns of 0.4 ms: each owes 0.4 ms of wait, less than a timer can wait; owed, not forgiven,
    // they add up to a wait of 1.2 ms after the third turn.
    scheduler.ready('capped', spin('capped', 0.4));
    for (let i = 0; i < 3; i++) await vi.advanceTimersToNextTimerAsync();
    const waits = setTimeoutSpy.mock.calls.map(([, ms]) => ms ?? 0);
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeCloseTo(1.2, 6);
    expect(scheduler.usedMs('capped')).toBeCloseTo(1.2, 6);
  });

  it('drops the queued turn of a task it forgets', async () => {
    vi.useFakeTimers();
    const { scheduler } = harness();
    const run = vi.fn();
    scheduler.ready('gone', run);
    scheduler.forget('gone');
    await vi.advanceTimersToNextTimerAsync();
    expect(run).not.toHaveBeenCalled();
  });

  it('keys tasks by id safely (__proto__ is a task like any other)', async () => {
    vi.useFakeTimers();
    const { scheduler } = harness();
    const run = vi.fn();
    scheduler.ready('__proto__', run);
    await vi.advanceTimersToNextTimerAsync();
    expect(run).toHaveBeenCalledOnce();
  });
});
