// Full garbage collections once a role has started. Start-up allocates far more than stays live
// (loading modules; ioredis alone builds ~400 command functions), and with a small young
// generation (bin/pacer, the agent) that garbage is promoted, so the old space ends at about
// twice what is live. V8's memory reducer gives it back, but only after some 30–40 s of
// idleness; an edge agent should hold its idle footprint from the start (issue 14).
import { gcFunction } from './gc-function.js';

/**
 * Two full collections. Two, because V8 picks the pages to compact from the live bytes the
 * previous marking counted: the first collection counts them, the second moves what is left on
 * mostly empty pages and gives those back (measured: old space 12.3 → 7.8 MiB; one collection,
 * in whatever flavour, left it at 12.3 in most runs). Blocks for a few milliseconds, once.
 * `gc` comes as in the Wasm task threads (lib/gc-function.ts): this process's global has none.
 */
export function releaseStartupGarbage(): void {
  const gc = gcFunction();
  gc();
  gc();
}
