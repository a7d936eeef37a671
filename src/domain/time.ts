// Timestamps as Marathon writes them: UTC, milliseconds, `Z` (`2026-01-02T03:04:05.678Z`).

/** The last timestamp formatted: the events of one write (6 for one POST) share their ms. */
let lastMs = Number.NaN;
let lastText = '';

/** Formats epoch milliseconds as a Marathon timestamp. */
export function toTimestamp(epochMs: number): string {
  if (epochMs !== lastMs) {
    // Throws on an invalid time before the cache changes, as it did without it.
    lastText = new Date(epochMs).toISOString();
    lastMs = epochMs;
  }
  return lastText;
}
