// WASI hosts for handler-mode instances, kept per worker thread and reset between requests
// (wasi-host.ts `reset`): a request gets a host as new as a fresh one (no file, fd, byte or
// setting of the last request), without building its tens of import functions again. A host
// serves one request at a time: requests of a thread interleave (a sleep, a fuel slice's end),
// so the pool holds one per request in flight, up to `maxKept`.
import {
  createReusableWasiHost,
  type ReusableWasiHost,
  type WasiHostOptions,
} from './wasi-host.js';

export interface HostPool {
  /** A host for a run with `options` (a kept one, reset; or a new one). No sockets. */
  take(options: WasiHostOptions): ReusableWasiHost;
  /**
   * Gives back the host of a run that is over and whose instance never runs again (`close`d
   * already): blanked now, so it holds nothing of that run while it waits.
   */
  give(host: ReusableWasiHost): void;
  /** Hosts kept. */
  readonly size: number;
}

export function createHostPool(options: { maxKept?: number } = {}): HostPool {
  const maxKept = options.maxKept ?? 64;
  const kept: ReusableWasiHost[] = [];
  return {
    take(runOptions) {
      if (runOptions.net) throw new Error('a pooled host has no sockets');
      const host = kept.pop();
      if (!host) return createReusableWasiHost(runOptions);
      host.reset(runOptions);
      return host;
    },
    give(host) {
      host.reset();
      if (kept.length < maxKept) kept.push(host);
    },
    get size() {
      return kept.length;
    },
  };
}
