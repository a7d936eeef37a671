import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_MS, setLongTimeout } from './long-timeout.js';

describe('setLongTimeout', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('waits a delay past what one Node timer keeps, in steps, and fires once', () => {
    const fn = vi.fn();
    setLongTimeout(fn, 3 * MAX_TIMER_MS + 5);
    vi.advanceTimersByTime(3 * MAX_TIMER_MS);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(5);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('fires a short delay on time, and never after cancel at any step', () => {
    const short = vi.fn();
    setLongTimeout(short, 10);
    vi.advanceTimersByTime(10);
    expect(short).toHaveBeenCalledTimes(1);
    const cancelled = vi.fn();
    const timer = setLongTimeout(cancelled, 2 * MAX_TIMER_MS);
    vi.advanceTimersByTime(MAX_TIMER_MS + 1);
    timer.cancel();
    vi.advanceTimersByTime(2 * MAX_TIMER_MS);
    expect(cancelled).not.toHaveBeenCalled();
  });
});
