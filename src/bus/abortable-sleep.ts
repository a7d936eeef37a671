// A sleep that a consumer's stop() can cut short, so loops never wait out a timer to end.

export interface AbortableSleep {
  /** Resolves after `ms`, or earlier when `wake` is called. */
  sleep(ms: number): Promise<void>;
  /** Ends the current sleep, if any. */
  wake(): void;
}

export function createAbortableSleep(): AbortableSleep {
  let current: (() => void) | undefined;
  return {
    sleep(ms) {
      return new Promise((resolve) => {
        const timer = setTimeout(done, Math.max(0, ms));
        function done() {
          clearTimeout(timer);
          current = undefined;
          resolve();
        }
        current = done;
      });
    },
    wake() {
      current?.();
    },
  };
}
