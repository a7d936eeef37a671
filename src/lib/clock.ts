// Injected time: loops and the scheduler read `clock.now()`, so tests control time.

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
