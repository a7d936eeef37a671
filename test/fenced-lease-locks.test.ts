// The lease row's locks on Postgres (PGlite has one connection: nothing waits there). A fenced
// write locks the row FOR KEY SHARE until it ends: its holder's renewal, several a second, does
// not wait for it (writes do not queue behind renewals), while a change of hands, which locks
// the row FOR UPDATE, cannot lock it before the write ends (no write of the old leader commits
// after the new one is elected). Also the transactions of the pipelined client: a failure
// anywhere rolls the whole transaction back.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instance } from '../src/domain/index.js';
import {
  FencedError,
  createFencedStore,
  createPostgresStore,
  type Store,
} from '../src/store/index.js';
import { waitFor } from './support/wait-for.js';
import { makeApp } from '../src/scheduler/fixtures.js';
import { createTestDatabase, hasService } from './support/services.js';

const ok = await hasService('postgres');

describe.skipIf(!ok)('the lease row under fenced writes (Postgres)', () => {
  let database: { url: string; drop: () => Promise<void> };
  let store: Store;
  let other: postgres.Sql;

  beforeAll(async () => {
    database = await createTestDatabase();
    store = await createPostgresStore({ url: database.url });
    other = postgres(database.url, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await other?.end({ timeout: 1 });
    await store?.close();
    await database?.drop();
  });

  it('lets its holder renew while a fenced write is in flight, and no other master lock it', async () => {
    const taken = await store.leases.acquire({ name: 'leader', holder: 'a', ttlMs: 60_000 });
    const asA = createFencedStore(store, () => ({ name: 'leader', holder: 'a', term: taken.term }));
    let inFlight = () => {};
    const isInFlight = new Promise<void>((resolve) => (inFlight = resolve));
    let finish = () => {};
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const write = asA.transaction(async (tx) => {
      await tx.events.append({ eventType: 'in_flight', payload: {} });
      inFlight();
      await finished;
    });
    await isInFlight;

    // Before, the renewal waited here until the write ended (and writes behind the renewal).
    expect(await store.leases.acquire({ name: 'leader', holder: 'a', ttlMs: 60_000 })).toEqual({
      holder: 'a',
      term: taken.term,
    });
    // A change of hands locks the row FOR UPDATE (lease-repository.ts `take`): not now.
    await expect(
      other.begin((tx) => tx`SELECT name FROM leases WHERE name = 'leader' FOR UPDATE NOWAIT`),
    ).rejects.toMatchObject({ code: '55P03' });

    finish();
    await write;
    const [row] = await other.begin(
      (tx) => tx`SELECT name FROM leases WHERE name = 'leader' FOR UPDATE NOWAIT`,
    );
    expect(row).toEqual({ name: 'leader' });
    expect((await store.events.since(0, 10)).map((e) => e.eventType)).toEqual(['in_flight']);
  });

  it('writes together in term, and nothing once another master leads', async () => {
    const taken = await store.leases.acquire({ name: 'together', holder: 'a', ttlMs: 60_000 });
    const asA = createFencedStore(store, () => ({
      name: 'together',
      holder: 'a',
      term: taken.term,
    }));
    const app = (id: string) => makeApp({ id, version: '2026-02-01T00:00:00.000Z' });
    await asA.writeTogether([
      (tx) => tx.apps.putMany([app('/together/one')]),
      (tx) => tx.deployments.deleteMany(['none']),
    ]);
    expect(await store.apps.get('/together/one')).toBeDefined();

    // A's lease ends (renewed to end at once); B takes it in a new term.
    await store.leases.acquire({ name: 'together', holder: 'a', ttlMs: 1 });
    await waitFor(
      'the lease of a to expire',
      async () => (await store.leases.holder({ name: 'together' })) === undefined,
      { timeoutMs: 5_000, maxIntervalMs: 20 },
    );
    await store.leases.acquire({ name: 'together', holder: 'b', ttlMs: 60_000 });
    // COMMIT went out with the writes: the failed check in the database stops them.
    await expect(
      asA.writeTogether([(tx) => tx.apps.putMany([app('/together/two')])]),
    ).rejects.toBeInstanceOf(FencedError);
    expect(await store.apps.get('/together/two')).toBeUndefined();
  });

  it('rolls back every statement written together when one fails', async () => {
    await expect(
      store.writeTogether([
        (tx) => tx.events.append({ eventType: 'together', payload: {} }),
        (tx) => tx.instances.put({} as Instance),
      ]),
    ).rejects.toThrow();
    expect((await store.events.since(0, 100)).map((e) => e.eventType)).not.toContain('together');
  });

  it('rolls back every statement of a pipelined transaction when one fails', async () => {
    const before = (await store.events.since(0, 100)).length;
    await expect(
      store.transaction(async (tx) => {
        await Promise.all([
          tx.events.append({ eventType: 'sent_together', payload: {} }),
          tx.deployments.deleteMany(['x']),
          // No instance id: the insert fails inside the transaction (not null), after the others.
          tx.instances.put({} as Instance),
        ]);
      }),
    ).rejects.toThrow();
    expect(await store.events.since(0, 100)).toHaveLength(before);
    // The connection is usable again: the next transaction commits.
    await store.transaction(async (tx) => {
      await tx.events.append({ eventType: 'after', payload: {} });
    });
    expect((await store.events.since(0, 100)).map((e) => e.eventType)).toContain('after');
  });
});
