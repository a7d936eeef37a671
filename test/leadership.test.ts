// Leader election on real Postgres with a short lease: one leader at a time, terms that rise, a
// leader that cannot renew steps down before anyone else is elected, a master whose clock is off
// neither steals nor keeps the lease, and abdication hands over.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './support/wait-for.js';
import { silentLogger, systemClock } from '../src/lib/index.js';
import { createLeadership, type Leadership } from '../src/master/leadership.js';
import { createPostgresStore, type Store } from '../src/store/index.js';
import { createTestDatabase, hasService } from './support/services.js';

const ok = await hasService('postgres');
const TTL_MS = 600;
const RENEW_MS = 100;

describe.skipIf(!ok)('leadership', () => {
  let database: { url: string; drop: () => Promise<void> };
  const stores: Store[] = [];
  const running: Leadership[] = [];
  /** What happened, in order, across every master of a test. */
  let happened: string[] = [];
  /** Renewals held back by a "partition"; failed at the end so nothing hangs. */
  const held: (() => void)[] = [];

  async function master(
    name: string,
    options: { clockOffsetMs?: number; leases?: (store: Store) => Store['leases'] } = {},
  ): Promise<Leadership> {
    const store = await createPostgresStore({ url: database.url, maxConnections: 2 });
    stores.push(store);
    const leases = options.leases ? options.leases(store) : store.leases;
    const leadership = createLeadership({
      store: { ...store, leases },
      clock: { now: () => systemClock.now() + (options.clockOffsetMs ?? 0) },
      logger: silentLogger(),
      self: name,
      ttlMs: TTL_MS,
      renewMs: RENEW_MS,
      onElected: async () => void happened.push(`${name} elected`),
      onDefeated: async () => void happened.push(`${name} defeated`),
    });
    running.push(leadership);
    return leadership;
  }

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    for (const fail of held) fail();
    for (const leadership of running) await leadership.stop().catch(() => undefined);
    for (const store of stores) await store.close();
    await database?.drop();
  });

  it('elects one leader; a leader that cannot renew steps down before another is elected', async () => {
    happened = [];
    let stalled = false;
    // A's renewals hang once stalled, as with a network partition from Postgres.
    const a = await master('a', {
      leases: (store) => ({
        ...store.leases,
        acquire: (o) =>
          stalled
            ? new Promise((_, reject) => held.push(() => reject(new Error('partitioned'))))
            : store.leases.acquire(o),
      }),
    });
    await a.start();
    const b = await master('b');
    await b.start();
    expect(a.isLeader()).toBe(true);
    expect(b.isLeader()).toBe(false);
    expect(b.leaderUrl()).toBe('a');
    const firstTerm = a.term() as number;

    stalled = true;
    await waitFor('b to lead', () => b.isLeader(), { timeoutMs: 10_000, maxIntervalMs: 20 });
    expect(happened).toEqual(['a elected', 'a defeated', 'b elected']);
    expect(a.isLeader()).toBe(false);
    expect(b.term()).toBe(firstTerm + 1);
  });

  it('decides expiry by the database clock: a master 5 s ahead neither steals nor keeps the lease', async () => {
    happened = [];
    const leader = running.find((l) => l.isLeader());
    // Every attempt of 'ahead' is recorded: by its own clock, the leader's lease looks expired.
    const answers: string[] = [];
    const ahead = await master('ahead', {
      clockOffsetMs: 5_000,
      leases: (store) => ({
        ...store.leases,
        acquire: async (o) => {
          const found = await store.leases.acquire(o);
          answers.push(found.holder);
          return found;
        },
      }),
    });
    const term = leader?.term();
    await ahead.start();
    await waitFor('five attempts of the master ahead', () => answers.length >= 5, {
      timeoutMs: 5_000,
      maxIntervalMs: 20,
    });
    expect(new Set(answers)).toEqual(new Set(['b']));
    expect(ahead.isLeader()).toBe(false);
    expect(happened).toEqual([]);
    expect(leader?.term()).toBe(term);

    // Abdication hands over at once to whoever asks next, in a new term.
    await leader?.abdicate();
    await waitFor('the master ahead to lead', () => ahead.isLeader(), {
      timeoutMs: 5_000,
      maxIntervalMs: 20,
    });
    expect(ahead.term()).toBe((term as number) + 1);
  });
});
