// Leader election on real Postgres with a short lease: one leader at a time, terms that rise, a
// leader that cannot renew steps down before anyone else is elected, a master whose clock is off
// neither steals nor keeps the lease, and abdication hands over. Then the transitions (onElected,
// onDefeated): never overlapping, a take-over longer than the lease keeps it, and one that hangs
// gives the lease up without stopping the elections.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './support/wait-for.js';
import { silentLogger, systemClock } from '../src/lib/index.js';
import { createLeadership, type Leadership } from '../src/master/leadership.js';
import { createPostgresStore, type Store } from '../src/store/index.js';
import { createTestDatabase, hasService } from './support/services.js';

const ok = await hasService('postgres');
const TTL_MS = 600;
const RENEW_MS = 100;

interface MasterOptions {
  clockOffsetMs?: number;
  leases?: (store: Store) => Store['leases'];
  takeOverTimeoutMs?: number;
  onElected?: () => Promise<void>;
  onDefeated?: () => Promise<void>;
}

/** `leases` whose answers are counted, and whose `acquire` hangs while `isStalled()`. */
function watchedLeases(
  leases: Store['leases'],
  options: { isStalled?: () => boolean; onAnswer?: () => void; held: (() => void)[] },
): Store['leases'] {
  const answered = async <T>(answer: Promise<T>): Promise<T> => {
    const value = await answer;
    options.onAnswer?.();
    return value;
  };
  return {
    ...leases,
    // Hangs as with a network partition from Postgres; failed at the end so nothing is left.
    acquire: (o) =>
      options.isStalled?.()
        ? new Promise((_, reject) => options.held.push(() => reject(new Error('partitioned'))))
        : answered(leases.acquire(o)),
    holder: (o) => answered(leases.holder(o)),
  };
}

describe.skipIf(!ok)('leadership', () => {
  let database: { url: string; drop: () => Promise<void> };
  const stores: Store[] = [];
  const running: Leadership[] = [];
  /** What happened, in order, across every master of a test. */
  let happened: string[] = [];
  /** Renewals held back by a "partition"; failed at the end so nothing hangs. */
  const held: (() => void)[] = [];

  async function master(name: string, options: MasterOptions = {}): Promise<Leadership> {
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
      ...(options.takeOverTimeoutMs === undefined
        ? {}
        : { takeOverTimeoutMs: options.takeOverTimeoutMs }),
      onElected: options.onElected ?? (async () => void happened.push(`${name} elected`)),
      onDefeated: options.onDefeated ?? (async () => void happened.push(`${name} defeated`)),
    });
    running.push(leadership);
    return leadership;
  }

  /** Stops the masters of the tests before: the next starts with nobody holding the lease. */
  async function reset(): Promise<void> {
    for (const fail of held.splice(0)) fail();
    for (const leadership of running.splice(0)) await leadership.stop().catch(() => undefined);
    happened = [];
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

  it('never takes over while its step-down still runs: onElected waits for onDefeated', async () => {
    await reset();
    let isStalled = false;
    let answers = 0;
    let endStepDown: () => void = () => undefined;
    const steppingDown = new Promise<void>((resolve) => (endStepDown = resolve));
    // A's loops stop slowly (a pass waiting on a store that lost its connections).
    const c = await master('c', {
      leases: (store) =>
        watchedLeases(store.leases, {
          isStalled: () => isStalled,
          onAnswer: () => answers++,
          held,
        }),
      onElected: async () => void happened.push('c elected'),
      onDefeated: async () => {
        happened.push('c stepping down');
        await steppingDown;
        happened.push('c stepped down');
      },
    });
    await c.start();
    expect(c.isLeader()).toBe(true);

    isStalled = true;
    await waitFor('c to step down', () => happened.includes('c stepping down'), {
      timeoutMs: 10_000,
      maxIntervalMs: 20,
    });
    // The store answers again and the lease has ended: c's rounds go on, but it stays out.
    isStalled = false;
    const before = answers;
    await waitFor('five rounds of c after the partition', () => answers >= before + 5, {
      timeoutMs: 10_000,
      maxIntervalMs: 20,
    });
    expect(happened).toEqual(['c elected', 'c stepping down']);
    expect(c.isLeader()).toBe(false);

    endStepDown();
    await waitFor('c to lead again', () => c.isLeader(), { timeoutMs: 10_000, maxIntervalMs: 20 });
    expect(happened).toEqual(['c elected', 'c stepping down', 'c stepped down', 'c elected']);
  });

  it('keeps the lease through a take-over longer than it, and leads once that is done', async () => {
    await reset();
    let answers = 0;
    const d = await master('d', {
      leases: (store) => watchedLeases(store.leases, { onAnswer: () => answers++, held }),
      onElected: async () => {
        happened.push('d taking over');
        // A cold load of a large state: ten renewals at 100 ms, longer than the 600 ms lease.
        const from = answers;
        await waitFor('renewals during the take-over', () => answers >= from + 10, {
          timeoutMs: 10_000,
          maxIntervalMs: 20,
        });
        happened.push('d took over');
      },
    });
    await d.start();
    const e = await master('e');
    await e.start();
    expect(d.isLeader()).toBe(true);
    expect(e.isLeader()).toBe(false);
    expect(e.leaderUrl()).toBe('d');
    expect(happened).toEqual(['d taking over', 'd took over']);
  });

  it('gives the lease up when a take-over hangs: another master leads, and the stuck one steps down once it ends', async () => {
    await reset();
    let endTakeOver: () => void = () => undefined;
    // A store query that never answers (a connection that went dead under it).
    const neverAnswered = new Promise<void>((resolve) => (endTakeOver = resolve));
    held.push(() => endTakeOver());
    const f = await master('f', {
      takeOverTimeoutMs: 1_000,
      onElected: async () => {
        happened.push('f taking over');
        await neverAnswered;
        happened.push('f took over');
      },
    });
    // Resolves once the take-over is given up.
    await f.start();
    const g = await master('g');
    await g.start();
    await waitFor('g to lead', () => g.isLeader(), { timeoutMs: 10_000, maxIntervalMs: 20 });
    expect(f.isLeader()).toBe(false);
    await waitFor('f to see g lead', () => f.leaderUrl() === 'g', {
      timeoutMs: 10_000,
      maxIntervalMs: 20,
    });
    expect(happened).toEqual(['f taking over', 'g elected']);

    // When it ends at last, what it set up is undone; it never counts as leader.
    endTakeOver();
    await waitFor('f to step down', () => happened.includes('f defeated'), {
      timeoutMs: 10_000,
      maxIntervalMs: 20,
    });
    expect(happened).toEqual(['f taking over', 'g elected', 'f took over', 'f defeated']);
    expect(f.isLeader()).toBe(false);
    expect(g.isLeader()).toBe(true);
  });
});
