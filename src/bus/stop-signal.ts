// Lets a loop stop waiting for a Redis reply. Needed because ioredis's disconnect() while it is
// reconnecting leaves queued commands unsettled forever (it never flushes its offline queue).
//
// Not `Promise.race([promise, stopped])`: each race adds a reaction to `stopped`, which stays
// pending for the bus's whole life, so every command ever raced (and its reply) stayed reachable
// until the bus closed (an idle agent's heap grew by ~330 promises a minute, issue 14). Here a
// race forgets its listener as soon as its promise settles.

export interface StopSignal {
  /** Settles like `promise`, or rejects with the stop reason once `stop` is called. */
  race<T>(promise: Promise<T>): Promise<T>;
  /** Makes every current and future `race` reject with `reason`. Idempotent. */
  stop(reason: Error): void;
}

export function createStopSignal(): StopSignal {
  let stopReason: Error | undefined;
  const waiting = new Set<(reason: Error) => void>();
  return {
    race<T>(promise: Promise<T>): Promise<T> {
      if (stopReason) {
        // As before, a promise raced after the stop must not become an unhandled rejection.
        promise.catch(() => {});
        return Promise.reject(stopReason);
      }
      return new Promise<T>((resolve, reject) => {
        waiting.add(reject);
        promise.then(
          (value) => {
            waiting.delete(reject);
            resolve(value);
          },
          (error: Error) => {
            waiting.delete(reject);
            reject(error);
          },
        );
      });
    },
    stop(reason) {
      if (stopReason) return;
      stopReason = reason;
      for (const reject of waiting) reject(reason);
      waiting.clear();
    },
  };
}
