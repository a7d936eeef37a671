// A leader stopped in the middle of a fenced write (SIGSTOP) keeps the lease's row locked, and
// Postgres 15 has no timeout for a session waiting on its client inside a transaction. Another
// master must still take the lease once it has ended by the database's clock, ending the stuck
// session (its write rolls back), but never while the lease is live.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStore, type Store } from '../src/store/index.js';
import { createTestDatabase, hasService } from './support/services.js';
import { waitFor } from './support/wait-for.js';

const ok = await hasService('postgres');

describe.skipIf(!ok)('taking the lease from a holder stuck in a transaction', () => {
  let database: { url: string; drop: () => Promise<void> };
  let store: Store;
  let stuck: postgres.Sql;
  let queued: postgres.Sql;

  beforeAll(async () => {
    database = await createTestDatabase();
    store = await createPostgresStore({ url: database.url, maxConnections: 2 });
    stuck = postgres(database.url, { max: 1, onnotice: () => {} });
    queued = postgres(database.url, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await stuck?.end({ timeout: 1 }).catch(() => undefined);
    await queued?.end({ timeout: 1 }).catch(() => undefined);
    await store?.close();
    await database?.drop();
  });

  it('waits while the lease is live, then ends the stuck session and takes it in a new term', async () => {
    const first = await store.leases.acquire({ name: 'leader', holder: 'a', ttlMs: 3_000 });
    // A's fenced write: the lease row locked (FOR KEY SHARE, as `holds` does), the write made,
    // the commit never sent.
    let rolledBack: Promise<unknown> = Promise.resolve();
    const locked = new Promise<void>((resolve) => {
      rolledBack = stuck
        .begin(async (tx) => {
          await tx`SELECT term FROM leases WHERE name = 'leader' FOR KEY SHARE`;
          await tx`INSERT INTO events (event_type, payload) VALUES ('stuck_write', '{}')`;
          resolve();
          await new Promise(() => undefined); // paused: never commits
        })
        .catch((error: unknown) => error);
    });
    await locked;
    // A third master's take queued behind the stuck write (it waits for the row, holding its
    // place): B finds the stuck session through it.
    const queuedTake = queued
      .begin((tx) => tx`SELECT name FROM leases WHERE name = 'leader' FOR UPDATE`)
      .catch((error: unknown) => error);

    // While A's lease is live, B neither takes it nor ends A's session.
    expect(await store.leases.acquire({ name: 'leader', holder: 'b', ttlMs: 1_000 })).toEqual({
      holder: 'a',
      term: first.term,
    });

    const taken = await waitFor(
      'b to take the lease',
      async () => {
        const found = await store.leases.acquire({ name: 'leader', holder: 'b', ttlMs: 60_000 });
        return found.holder === 'b' ? found : undefined;
      },
      { timeoutMs: 10_000, maxIntervalMs: 50 },
    );
    expect(taken.term).toBe(first.term + 1);
    // A's session was ended: its write rolled back, never stored.
    expect(String(await rolledBack)).toMatch(/terminat|CONNECTION/i);
    await queuedTake;
    const types = (await store.events.since(0, 100)).map((e) => e.eventType);
    expect(types).not.toContain('stuck_write');
  });
});
