// One memory-reducing garbage collection once a role has started. Start-up allocates far more
// than stays live (loading modules; ioredis alone builds ~400 command functions), and with a small
// young generation (bin/pacer, the agent) that garbage is promoted, so the old space ends at
// about twice what is live. V8's memory reducer gives it back, but only after some 30 s of
// idleness; an edge agent should hold its idle footprint from the start (issue 14).

type GcOptions = { type: 'major'; execution: 'async'; flavor: 'last-resort' };

/**
 * Collects with V8's "last resort" flavour (compacts, gives free pages back) when `gc` is exposed
 * (`--expose-gc`, set by bin/pacer for the agent); does nothing otherwise.
 */
export async function releaseStartupGarbage(): Promise<void> {
  const gc = (globalThis as { gc?: (options: GcOptions) => Promise<void> | undefined }).gc;
  await gc?.({ type: 'major', execution: 'async', flavor: 'last-resort' });
}
