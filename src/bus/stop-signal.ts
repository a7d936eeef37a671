// Lets a loop stop waiting for a Redis reply. Needed because ioredis's disconnect() while it is
// reconnecting leaves queued commands unsettled forever (it never flushes its offline queue).

export interface StopSignal {
  /** Settles like `promise`, or rejects with the stop reason once `stop` is called. */
  race<T>(promise: Promise<T>): Promise<T>;
  /** Makes every current and future `race` reject with `reason`. Idempotent. */
  stop(reason: Error): void;
}

export function createStopSignal(): StopSignal {
  let reject: (reason: Error) => void = () => {};
  const stopped = new Promise<never>((_, rejectStopped) => {
    reject = rejectStopped;
  });
  // Nobody may be racing when stop() is called; that is not an unhandled rejection.
  stopped.catch(() => {});
  return {
    race: (promise) => Promise.race([promise, stopped]),
    stop: (reason) => reject(reason),
  };
}
