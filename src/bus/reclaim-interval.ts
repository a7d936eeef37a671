// How often a consumer looks for idle pending entries to claim, given how idle they must be.

/** A quarter of `reclaimAfterMs`, between 20 ms and 5 s: an idle entry waits at most 1.25×. */
export function reclaimIntervalMs(reclaimAfterMs: number): number {
  return Math.min(5_000, Math.max(20, Math.floor(reclaimAfterMs / 4)));
}
