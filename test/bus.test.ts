// Conformance suite of the Bus interface, run against the in-process bus and the Redis bus, plus
// Redis-only tests: undecodable entries, and a consumer that outlives a Redis restart.
// Throughput is measured by bench/bus.ts, not here.
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Bus, BusEntry, ConsumeEach, Subscription } from '../src/bus/index.js';
import { BusDecodeError, createMemoryBus, createRedisBus } from '../src/bus/index.js';
import { z } from 'zod';
import { silentLogger } from '../src/lib/logger.js';
import { createRedisServer } from './support/redis-server.js';
import { REDIS_URL, hasService, redisPrefix } from './support/services.js';
import { waitFor } from './support/wait-for.js';

interface Numbered {
  n: number;
}

interface BusUnderTest {
  bus: Bus;
  /** Frees what the bus left behind (Redis keys). */
  cleanup(): Promise<void>;
}

/** A read that would block longer than any test runs: it can only end by a publish or a close. */
const FOREVER_MS = 600_000;

let streamCounter = 0;
const freshStream = () => `s${++streamCounter}`;

async function publishAll(
  bus: Bus,
  stream: string,
  ns: number[],
  maxLen?: number,
): Promise<string[]> {
  const ids: string[] = [];
  // Chunks of concurrent publishes: pipelined on one Redis connection, still in order.
  for (let i = 0; i < ns.length; i += 500) {
    const chunk = ns.slice(i, i + 500);
    ids.push(
      ...(await Promise.all(
        chunk.map((n) => bus.publish(stream, { n }, maxLen ? { maxLen } : {})),
      )),
    );
  }
  return ids;
}

/** A subscription recording what its handler saw; `fail` decides which entries it rejects. */
function collect(
  bus: Bus,
  options: Omit<ConsumeEach<Numbered>, 'handler' | 'handleBatch'> & {
    fail?: (entry: BusEntry<Numbered>, attempt: number) => boolean;
    /** Awaited before each entry is handled (holds the entry in hand). */
    before?: () => Promise<void>;
  },
): {
  entries: BusEntry<Numbered>[];
  attempts: Map<string, number>;
  errors: unknown[];
  sub: Subscription;
} {
  const entries: BusEntry<Numbered>[] = [];
  const attempts = new Map<string, number>();
  const errors: unknown[] = [];
  const sub = bus.consume<Numbered>({
    ...options,
    onError: (error) => errors.push(error),
    handler: async (entry) => {
      const attempt = (attempts.get(entry.id) ?? 0) + 1;
      attempts.set(entry.id, attempt);
      await options.before?.();
      if (options.fail?.(entry, attempt)) throw new Error(`rejecting ${entry.message.n}`);
      entries.push(entry);
    },
  });
  return { entries, attempts, errors, sub };
}

const ns = (entries: BusEntry<Numbered>[]) => entries.map((entry) => entry.message.n);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

function busConformance(name: string, create: () => BusUnderTest, burstSize: number): void {
  describe(name, () => {
    let underTest: BusUnderTest;
    let bus: Bus;

    beforeEach(() => {
      underTest = create();
      bus = underTest.bus;
    });

    afterEach(async () => {
      await bus.close();
      await underTest.cleanup();
    });

    it('delivers the entries of a stream to a consumer in publish order', async () => {
      const stream = freshStream();
      const got = collect(bus, { stream, group: 'g', consumer: 'c' });
      const ids = await publishAll(bus, stream, range(0, 30));
      await waitFor('30 entries', () => got.entries.length === 30);
      expect(ns(got.entries)).toEqual(range(0, 30));
      expect(got.entries.map((entry) => entry.id)).toEqual(ids);
      expect(got.errors).toEqual([]);
      await got.sub.stop();
    });

    it('gives every group every message and shares a group between its consumers', async () => {
      const stream = freshStream();
      await publishAll(bus, stream, range(0, 20));
      // Each consumer holds its first entry until the other has one in hand too: both must get
      // a share, whatever the timing (a consumer that had to wait for the other never would).
      let release: () => void = () => undefined;
      const bothInHand = new Promise<void>((resolve) => (release = resolve));
      const inHand = new Set<string>();
      const meet = (name: string) => () => {
        inHand.add(name);
        if (inHand.size === 2) release();
        return bothInHand;
      };
      const a = collect(bus, {
        stream,
        group: 'shared',
        consumer: 'a',
        batchSize: 1,
        before: meet('a'),
      });
      const b = collect(bus, {
        stream,
        group: 'shared',
        consumer: 'b',
        batchSize: 1,
        before: meet('b'),
      });
      const other = collect(bus, { stream, group: 'other', consumer: 'c' });
      await waitFor('other group has 20', () => other.entries.length === 20);
      await waitFor('shared group has 20', () => a.entries.length + b.entries.length === 20);
      expect(ns(other.entries)).toEqual(range(0, 20));
      const shared = [...ns(a.entries), ...ns(b.entries)].sort((x, y) => x - y);
      expect(shared).toEqual(range(0, 20)); // each once: no duplicates, none missing
      expect(a.entries.length).toBeGreaterThan(0);
      expect(b.entries.length).toBeGreaterThan(0);
      await Promise.all([a.sub.stop(), b.sub.stop(), other.sub.stop()]);
    });

    it('delivers an entry again after its handler rejected, and reports the rejection', async () => {
      const stream = freshStream();
      const got = collect(bus, {
        stream,
        group: 'g',
        consumer: 'c',
        reclaimAfterMs: 100,
        fail: (entry, attempt) => entry.message.n === 1 && attempt === 1,
      });
      const ids = await publishAll(bus, stream, range(0, 3));
      await waitFor('all 3 handled', () => got.entries.length === 3);
      expect(ns(got.entries).sort()).toEqual([0, 1, 2]);
      expect(got.attempts.get(ids[1]!)).toBe(2);
      expect(got.attempts.get(ids[0]!)).toBe(1);
      expect(got.errors).toHaveLength(1);
      expect(String(got.errors[0])).toContain('rejecting 1');
      await got.sub.stop();
    });

    it('hands a batch handler the entries of each read together, in order, at most batchSize', async () => {
      const stream = freshStream();
      const ids = await publishAll(bus, stream, range(0, 250));
      const batches: BusEntry<Numbered>[][] = [];
      const sub = bus.consume<Numbered>({
        stream,
        group: 'g',
        consumer: 'c',
        batchSize: 100,
        handleBatch: async (entries) => {
          batches.push(entries);
        },
      });
      await waitFor('250 entries', () => batches.flat().length === 250);
      expect(ns(batches.flat())).toEqual(range(0, 250));
      expect(batches.flat().map((entry) => entry.id)).toEqual(ids);
      expect(Math.max(...batches.map((b) => b.length))).toBe(100); // published before: full reads
      await sub.stop();
      // All acknowledged: a restarted consumer of the same name gets nothing again.
      const again = collect(bus, { stream, group: 'g', consumer: 'c' });
      await publishAll(bus, stream, [250]);
      await waitFor('the new entry', () => again.entries.length === 1);
      expect(ns(again.entries)).toEqual([250]);
      await again.sub.stop();
    });

    it('delivers a whole batch again after the batch handler rejected, and reports it', async () => {
      const stream = freshStream();
      const ids = await publishAll(bus, stream, range(0, 5));
      const attempts: number[][] = [];
      const errors: unknown[] = [];
      const sub = bus.consume<Numbered>({
        stream,
        group: 'g',
        consumer: 'c',
        reclaimAfterMs: 100,
        onError: (error) => errors.push(error),
        handleBatch: async (entries) => {
          attempts.push(ns(entries));
          if (attempts.length === 1) throw new Error('rejecting the batch');
        },
      });
      await waitFor('a second attempt', () => attempts.length >= 2);
      expect(attempts[0]).toEqual(range(0, 5));
      expect(attempts.slice(1).flat().sort()).toEqual(range(0, 5));
      expect(errors).toHaveLength(1);
      expect(String(errors[0])).toContain('rejecting the batch');
      expect(ids).toHaveLength(5);
      await sub.stop();
    });

    it('redelivers an entry whose handler rejected to the restarted consumer of the same name', async () => {
      const stream = freshStream();
      const first = collect(bus, {
        stream,
        group: 'g',
        consumer: 'c',
        fail: (entry) => entry.message.n === 0,
      });
      await publishAll(bus, stream, range(0, 2));
      await waitFor('first incarnation handled 1', () => first.entries.length === 1);
      await first.sub.stop();
      expect(ns(first.entries)).toEqual([1]);

      const second = collect(bus, { stream, group: 'g', consumer: 'c' });
      await waitFor('pending entry 0 redelivered', () => second.entries.length === 1);
      await publishAll(bus, stream, [2]);
      await waitFor('new entry 2', () => second.entries.length === 2);
      expect(ns(second.entries)).toEqual([0, 2]); // pending first, then new; acked 1 never again
      await second.sub.stop();
    });

    it('redelivers entries read but not acknowledged before stop to the restarted consumer', async () => {
      const stream = freshStream();
      await publishAll(bus, stream, range(0, 3));
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => (release = resolve));
      const handled: number[] = [];
      let isInHand = false;
      const first = bus.consume<Numbered>({
        stream,
        group: 'g',
        consumer: 'c',
        handler: async (entry) => {
          if (entry.message.n === 0) {
            isInHand = true;
            await gate;
          }
          handled.push(entry.message.n);
        },
      });
      await waitFor('entry 0 in hand', () => isInHand);
      const stopping = first.stop(); // entry 0 is in hand; 1 and 2 were read in the same batch
      release();
      await stopping;
      expect(handled).toEqual([0]);

      const second = collect(bus, { stream, group: 'g', consumer: 'c' });
      await waitFor('entries 1 and 2 redelivered', () => second.entries.length === 2);
      expect(ns(second.entries)).toEqual([1, 2]);
      await second.sub.stop();
    });

    it("claims another consumer's idle pending entry after reclaimAfterMs", async () => {
      const stream = freshStream();
      const gone = collect(bus, { stream, group: 'g', consumer: 'gone', fail: () => true });
      const [id] = await publishAll(bus, stream, [7]);
      await waitFor('first delivery', () => gone.attempts.get(id!) === 1);
      await gone.sub.stop();

      // A consumer for which the entry is not idle long enough leaves it: it handles a later
      // entry, and entry 7 stays with the consumer that is gone.
      const patient = collect(bus, {
        stream,
        group: 'g',
        consumer: 'patient',
        reclaimAfterMs: FOREVER_MS,
      });
      await publishAll(bus, stream, [8]);
      await waitFor('the later entry', () => patient.entries.length === 1);
      expect(ns(patient.entries)).toEqual([8]);
      await patient.sub.stop();

      const taker = collect(bus, { stream, group: 'g', consumer: 'taker', reclaimAfterMs: 150 });
      // (Entry 8 may come too: stopping cuts short an ack in flight, and at-least-once allows it.)
      const claimed = await waitFor('entry 7 claimed', () =>
        taker.entries.find((e) => e.id === id),
      );
      expect(claimed).toEqual({ id, message: { n: 7 } });
      await taker.sub.stop();
    });

    it('drops and reports a message its schema rejects, acknowledged, and delivers the rest', async () => {
      const stream = freshStream();
      const schema = z.object({ n: z.number().int().nonnegative() });
      await bus.publish(stream, { n: 0 });
      await bus.publish(stream, { n: 'x'.repeat(10_000) });
      await bus.publish(stream, { n: -1 });
      await bus.publish(stream, { n: 3 });
      const errors: unknown[] = [];
      const seen: number[] = [];
      const first = bus.consume<Numbered>({
        stream,
        group: 'g',
        consumer: 'c',
        schema,
        onError: (error) => errors.push(error),
        handler: async (entry) => void seen.push(entry.message.n),
      });
      await waitFor('two valid entries', () => seen.length === 2);
      await waitFor('two rejections', () => errors.length === 2);
      expect(seen).toEqual([0, 3]);
      expect(errors[0]).toBeInstanceOf(BusDecodeError);
      expect(String((errors[0] as Error).message)).toContain('invalid message');
      await first.stop();
      // Acknowledged: a restarted consumer of the same name gets nothing back.
      const second = collect(bus, { stream, group: 'g', consumer: 'c' });
      await bus.publish(stream, { n: 4 });
      await waitFor('only the new entry', () => second.entries.length === 1);
      expect(ns(second.entries)).toEqual([4]);
      await second.sub.stop();
    });

    it('consumeMany reads several streams as one reader, each batch with its stream', async () => {
      const [a, b, c] = [freshStream(), freshStream(), freshStream()];
      await publishAll(bus, a, range(0, 5));
      const seen = new Map<string, number[]>();
      const sub = bus.consumeMany<Numbered>({
        streams: [a, b],
        group: 'g',
        consumer: 'c',
        handleBatch: async (stream, entries) => {
          seen.set(stream, [...(seen.get(stream) ?? []), ...ns(entries)]);
        },
      });
      await publishAll(bus, b, range(10, 15));
      await waitFor('a and b', () => seen.get(a)?.length === 5 && seen.get(b)?.length === 5);
      // Added while the reader blocks: read without waiting out the block.
      sub.add(c);
      await publishAll(bus, c, range(20, 23));
      await waitFor('c', () => seen.get(c)?.length === 3);
      sub.delete(a);
      await publishAll(bus, a, [5]);
      await publishAll(bus, b, [15]);
      await waitFor('b 15', () => seen.get(b)?.length === 6);
      expect(seen.get(a)).toEqual(range(0, 5));
      expect(seen.get(b)).toEqual(range(10, 16));
      expect(seen.get(c)).toEqual(range(20, 23));
      await sub.stop();
    });

    it('consumeMany hands entries appended together to one batch, even when one woke it', async () => {
      const stream = freshStream();
      const batches: number[][] = [];
      const sub = bus.consumeMany<Numbered>({
        streams: [stream],
        group: 'g',
        consumer: 'c',
        handleBatch: async (_stream, entries) => void batches.push(ns(entries)),
      });
      await publishAll(bus, stream, [0]);
      await waitFor('the first entry', () => batches.length === 1);
      // The reader blocks again. Two appends sent in one turn (an agent's STARTING and RUNNING):
      // Redis wakes the reader after the first, and the second must still join its batch.
      await Promise.all([bus.publish(stream, { n: 1 }), bus.publish(stream, { n: 2 })]);
      await waitFor('both', () => batches.flat().length === 3);
      expect(batches).toEqual([[0], [1, 2]]);
      await sub.stop();
    });

    it("consumeMany handles streams at once: one stream's slow batch holds back no other", async () => {
      const [slow, quick] = [freshStream(), freshStream()];
      await publishAll(bus, slow, [0]);
      await publishAll(bus, quick, [1]);
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => (release = resolve));
      const handled: string[] = [];
      const sub = bus.consumeMany<Numbered>({
        streams: [slow, quick],
        group: 'g',
        consumer: 'c',
        handleBatch: async (stream) => {
          if (stream === slow) await gate;
          handled.push(stream);
        },
      });
      // The quick stream's batch is handled while the slow one's waits (before: after it).
      await waitFor('the quick stream', () => handled.includes(quick));
      expect(handled).toEqual([quick]);
      release();
      await waitFor('the slow stream', () => handled.includes(slow));
      await sub.stop();
    });

    it('consumeMany redelivers what a rejected batch left pending to the restarted reader', async () => {
      const [a, b] = [freshStream(), freshStream()];
      await publishAll(bus, a, [0]);
      await publishAll(bus, b, [1]);
      const first: string[] = [];
      const sub = bus.consumeMany<Numbered>({
        streams: [a, b],
        group: 'g',
        consumer: 'c',
        onError: () => undefined,
        handleBatch: async (stream) => {
          first.push(stream);
          if (stream === a) throw new Error('not now');
        },
      });
      await waitFor('both read once', () => first.includes(a) && first.includes(b));
      await sub.stop();
      const again: number[] = [];
      const restarted = bus.consumeMany<Numbered>({
        streams: [a, b],
        group: 'g',
        consumer: 'c',
        handleBatch: async (_stream, entries) => void again.push(...ns(entries)),
      });
      await waitFor('a again', () => again.length === 1);
      expect(again).toEqual([0]);
      await restarted.stop();
    });

    it('reads entries after an id, oldest first, up to a count', async () => {
      const stream = freshStream();
      const ids = await publishAll(bus, stream, range(0, 5));
      expect(await bus.read<Numbered>(stream)).toEqual(
        ids.map((id, n) => ({ id, message: { n } })),
      );
      expect(ns(await bus.read<Numbered>(stream, { afterId: ids[2] }))).toEqual([3, 4]);
      expect(ns(await bus.read<Numbered>(stream, { afterId: ids[0], count: 2 }))).toEqual([1, 2]);
      expect(await bus.read(stream, { afterId: ids[4] })).toEqual([]);
      expect(await bus.read(freshStream())).toEqual([]);
    });

    it('tails the last entries, oldest first', async () => {
      const stream = freshStream();
      await publishAll(bus, stream, range(0, 5));
      expect(ns(await bus.tail<Numbered>(stream, 3))).toEqual([2, 3, 4]);
      expect(ns(await bus.tail<Numbered>(stream, 10))).toEqual(range(0, 5));
      expect(await bus.tail(freshStream(), 3)).toEqual([]);
    });

    it('a blocking read returns nothing once blockMs passes without a publish', async () => {
      const stream = freshStream();
      const [lastId] = await publishAll(bus, stream, [0]);
      expect(await bus.read(stream, { afterId: lastId, blockMs: 150 })).toEqual([]);
    });

    it('a blocking read waits for the next publish and returns it', async () => {
      const stream = freshStream();
      const [lastId] = await publishAll(bus, stream, [0]);
      // Blocks longer than the test may run: only the publish can end it.
      const reading = bus.read<Numbered>(stream, { afterId: lastId, blockMs: FOREVER_MS });
      let isSettled = false;
      void reading.finally(() => (isSettled = true));
      // A later short read that blocks and ends empty: the long one, sent first, is blocked too.
      expect(await bus.read(stream, { afterId: lastId, blockMs: 100 })).toEqual([]);
      expect(isSettled).toBe(false);
      await bus.publish(stream, { n: 1 });
      expect(ns(await reading)).toEqual([1]);
    });

    it('trims a stream to about maxLen entries, keeping the newest', async () => {
      const stream = freshStream();
      await publishAll(bus, stream, range(0, 1000), 50);
      const left = ns(await bus.read<Numbered>(stream));
      // Redis trims whole nodes (`MAXLEN ~`): at least 50 stay, and not many more.
      expect(left.length).toBeGreaterThanOrEqual(50);
      expect(left.length).toBeLessThanOrEqual(250);
      expect(left).toEqual(range(1000 - left.length, 1000));
    });

    it('removes a stream, idempotently', async () => {
      const stream = freshStream();
      await publishAll(bus, stream, range(0, 3));
      await bus.remove(stream);
      expect(await bus.read(stream)).toEqual([]);
      expect(await bus.tail(stream, 5)).toEqual([]);
      await bus.remove(stream);
      await publishAll(bus, stream, [9]);
      expect(ns(await bus.read<Numbered>(stream))).toEqual([9]);
    });

    it('close ends blocked readers and subscriptions', async () => {
      const stream = freshStream();
      const got = collect(bus, { stream, group: 'g', consumer: 'c' });
      // Blocks longer than the test may run: only the close can end it.
      const reading = bus.read(stream, { blockMs: FOREVER_MS });
      // A later short read that blocks and ends empty: the long one, sent first, is blocked too.
      expect(await bus.read(stream, { blockMs: 100 })).toEqual([]);
      await bus.close();
      expect(await reading).toEqual([]);
      await got.sub.stop();
      await expect(bus.publish(stream, { n: 1 })).rejects.toThrow(/closed/);
    });

    it(`delivers a burst of ${burstSize} messages through consume, in order`, async () => {
      const stream = freshStream();
      await publishAll(bus, stream, range(0, burstSize));
      let count = 0;
      let isOrdered = true;
      const sub = bus.consume<Numbered>({
        stream,
        group: 'g',
        consumer: 'c',
        handler: async (entry) => {
          if (entry.message.n !== count) isOrdered = false;
          count += 1;
        },
      });
      await waitFor('burst consumed', () => count === burstSize);
      expect(isOrdered).toBe(true);
      await sub.stop();
    });
  });
}

/** Deletes every key under a prefix (the Redis bus leaves streams behind by design). */
async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { protocol: 2 });
  try {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

busConformance(
  'memory',
  () => ({ bus: createMemoryBus({ logger: silentLogger() }), cleanup: async () => {} }),
  20_000,
);

const hasRedis = await hasService('redis');

describe.skipIf(!hasRedis)('redis', () => {
  busConformance(
    'redis',
    () => {
      const prefix = redisPrefix();
      return {
        bus: createRedisBus({ url: REDIS_URL, prefix, logger: silentLogger() }),
        cleanup: () => deleteKeys(REDIS_URL, prefix),
      };
    },
    5_000,
  );

  it('reports and acknowledges an undecodable entry, and keeps delivering', async () => {
    const prefix = redisPrefix();
    const bus = createRedisBus({ url: REDIS_URL, prefix, logger: silentLogger() });
    const raw = new Redis(REDIS_URL, { protocol: 2 });
    try {
      await bus.publish('poison', { n: 0 });
      await raw.xadd(`${prefix}poison`, '*', 'message', '{not json');
      await bus.publish('poison', { n: 2 });
      const got = collect(bus, { stream: 'poison', group: 'g', consumer: 'c' });
      await waitFor('two good entries', () => got.entries.length === 2);
      expect(ns(got.entries)).toEqual([0, 2]);
      expect(got.errors).toHaveLength(1);
      expect(got.errors[0]).toMatchObject({ name: 'BusDecodeError', stream: 'poison' });
      // The poison entry was acknowledged, not left pending.
      await waitFor(
        'nothing pending',
        async () => Number((await raw.xpending(`${prefix}poison`, 'g'))[0]) === 0,
      );
      await expect(bus.read('poison')).rejects.toMatchObject({ name: 'BusDecodeError' });
      await got.sub.stop();
    } finally {
      raw.disconnect();
      await bus.close();
      await deleteKeys(REDIS_URL, prefix);
    }
  });

  it('a consumer recovers from a Redis restart and keeps delivering new messages', async () => {
    const server = await createRedisServer();
    await server.start();
    const bus = createRedisBus({ url: server.url, prefix: 'pacer:', logger: silentLogger() });
    try {
      const got = collect(bus, {
        stream: 'status',
        group: 'master',
        consumer: 'm1',
        reclaimAfterMs: 1_000,
      });
      await publishAll(bus, 'status', range(0, 3));
      await waitFor('before restart', () => got.entries.length === 3);

      await server.kill();
      await server.start(); // empty: the stream and the group are gone

      // A publish may fail while the connection comes back; retry until one lands.
      for (const n of [3, 4, 5])
        await waitFor(`publish ${n} to land`, () => bus.publish('status', { n }));
      await waitFor('after restart', () => got.entries.length === 6);
      expect(ns(got.entries)).toEqual(range(0, 6));
      // It went through recovery: the lost group was reported, not thrown.
      expect(got.errors.some((error) => String(error).includes('NOGROUP'))).toBe(true);
      await got.sub.stop();
    } finally {
      await bus.close();
      await server.kill();
    }
  });

  it('stop and close end while Redis is down, before any reconnect', async () => {
    const server = await createRedisServer();
    await server.start();
    // The bus logs each lost connection: the sign that its consumer is reconnecting.
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
    const bus = createRedisBus({ url: server.url, logger });
    try {
      const got = collect(bus, { stream: 'offers', group: 'master', consumer: 'm1' });
      await publishAll(bus, 'offers', [0]);
      await waitFor('delivered', () => got.entries.length === 1);
      await server.kill();
      await waitFor('a lost connection', () =>
        warnings.some((line) => line.includes('redis connection error')),
      );
      // Redis stays down: a stop or close that waited for it would never end (test timeout).
      await got.sub.stop();
      await bus.close();
    } finally {
      await bus.close();
      await server.kill();
    }
  });
});
