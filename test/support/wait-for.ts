// The one way tests (and benches) wait: poll a condition until it holds, never sleep for a time.
//
// Not `vi.waitFor`: benches under bench/ import this outside the Vitest runner, a probe here may
// answer `false`/`undefined` for "not yet" (vi.waitFor only retries on a throw), and the timeout
// names what was awaited. Real timers are taken at import, so it also works under fake timers
// and clock (it does not advance them: a test with fake timers advances its own clock).

const realSetTimeout = globalThis.setTimeout;
const realNow = Date.now.bind(Date);

export interface WaitOptions {
  /** Fail after this long (default 20 s): generous, it only bounds a failing test. */
  timeoutMs?: number;
  /** Longest pause between probes (default 100 ms); the first probes come sooner. */
  maxIntervalMs?: number;
}

/**
 * Calls `probe` until it returns something other than `undefined` or `false`, and resolves with
 * that. A probe that throws counts as "not yet"; its last error is in the timeout's message.
 * Probes start 5 ms apart and back off to `maxIntervalMs`, so a quick condition is seen quickly
 * and a slow one (an HTTP round trip, a process starting) is not hammered.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  options: WaitOptions | number = {},
): Promise<T> {
  const { timeoutMs = 20_000, maxIntervalMs = 100 } =
    typeof options === 'number' ? { timeoutMs: options } : options;
  const deadline = realNow() + timeoutMs;
  let intervalMs = 5;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (realNow() >= deadline) break;
    await new Promise((resolve) => realSetTimeout(resolve, intervalMs));
    intervalMs = Math.min(intervalMs * 2, maxIntervalMs);
  }
  const why = lastError instanceof Error ? `: ${lastError.message}` : '';
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${why}`);
}
