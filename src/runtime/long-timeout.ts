// A timer for any delay: Node keeps a timeout of at most 2^31 - 1 ms (about 24.8 days) and fires
// a longer one after 1 ms, while a guest's sleep may ask for up to 2^64 ns.

/** The longest delay one Node timer keeps. */
export const MAX_TIMER_MS = 2_147_483_647;

/** A running long timeout; `cancel` stops it at any step. */
export interface LongTimeout {
  cancel(): void;
}

/** Calls `fn` once `ms` have passed, waiting in steps of at most `MAX_TIMER_MS`. */
export function setLongTimeout(fn: () => void, ms: number): LongTimeout {
  let left = Math.max(0, ms);
  let handle: NodeJS.Timeout;
  const arm = (): void => {
    const step = Math.min(left, MAX_TIMER_MS);
    left -= step;
    handle = setTimeout(left > 0 ? arm : fn, step);
  };
  arm();
  return { cancel: () => clearTimeout(handle) };
}
