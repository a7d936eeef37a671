// Timestamps as Marathon writes them: UTC, milliseconds, `Z` (`2026-01-02T03:04:05.678Z`).

/** Formats epoch milliseconds as a Marathon timestamp. */
export function toTimestamp(epochMs: number): string {
  return new Date(epochMs).toISOString();
}
