// One consumer-group reader over a changing set of streams, on one connection: XREADGROUP names
// every stream at once, so a master reading 1,000 agents' streams holds one blocked read, not 1,000.
// The same phases as redis-consumer.ts, per stream:
//
//   add(stream) ─► XGROUP CREATE ─► own pending (XREADGROUP … 0) until empty
//                                      │
//        ┌─────────────────────────────▼────────────────────────────┐
//        │ every reclaim interval: XAUTOCLAIM on each stream         │──► handleBatch(stream, …) of
//        │                                                           │    every stream at once, XACK
//        │ else: XREADGROUP BLOCK … STREAMS k1 k2 … > > …            │
//        └─────────────────────────────┬────────────────────────────┘
//   add/delete while blocked ─► CLIENT UNBLOCK from another connection, re-read with the new set
//   NOGROUP ─► create every group again (BUSYGROUP is fine), carry on
import type { Redis } from './ioredis.js';
import type { BusEntry, ConsumeBatches, ConsumeManyOptions, StreamSetSubscription } from './bus.js';
import { createAbortableSleep } from './abortable-sleep.js';
import { createAckBatches } from './ack-batches.js';
import { deliverBatch } from './deliver-batch.js';
import { MESSAGE_FIELD, decodeMessage } from './message-codec.js';
import { reclaimIntervalMs } from './reclaim-interval.js';
import type { RedisConsumerContext } from './redis-consumer.js';
import type { RawEntry } from './redis-replies.js';
import {
  fieldValue,
  isRedisError,
  parseAutoClaimReply,
  parseMultiReadReply,
} from './redis-replies.js';
import { reportError } from './report-error.js';
import { createStopSignal } from './stop-signal.js';

export interface RedisMultiConsumerContext extends RedisConsumerContext {
  /** Ends client `id`'s blocked command at once (`CLIENT UNBLOCK`), sent on another connection. */
  unblock(clientId: number): Promise<void>;
}

interface StreamState {
  stream: string;
  key: string;
  needsGroup: boolean;
  /** Where the re-read of this consumer's own pending entries is; undefined once done. */
  pendingCursor: string | undefined;
  reclaimCursor: string;
}

const MAX_BLOCK_MS = 2_000;
const STOP_ACK_GRACE_MS = 5_000;

export function startRedisMultiConsumer<T>(
  context: RedisMultiConsumerContext,
  options: ConsumeManyOptions<T>,
): StreamSetSubscription {
  const { group, consumer, onError } = options;
  const batchSize = Math.max(1, options.batchSize ?? 100);
  const reclaimAfterMs = options.reclaimAfterMs ?? 30_000;
  const reclaimEveryMs = reclaimIntervalMs(reclaimAfterMs);
  const blockMs = Math.min(MAX_BLOCK_MS, reclaimEveryMs);
  const states = new Map<string, StreamState>();
  const connection: Redis = context.connect();
  const sleeper = createAbortableSleep();
  const stopSignal = createStopSignal();
  const send = (command: string, ...args: (string | number)[]) =>
    stopSignal.race(connection.call(command, ...args));
  let isStopped = false;
  /** Handlers in progress (the streams of one read run at once). */
  let handlersRunning = 0;
  let isBlocked = false;
  /** The set changed since the last read began: read again before blocking. */
  let isChanged = false;
  /** This connection's id at Redis, for CLIENT UNBLOCK; a reconnect gets a new one. */
  let clientId: number | undefined;
  connection.on('ready', () => (clientId = undefined));

  function report(what: string, error: unknown, where: Record<string, string> = {}): void {
    reportError(context.logger, onError, { error, what, context: { group, consumer, ...where } });
  }

  function changed(): void {
    isChanged = true;
    sleeper.wake();
    if (isBlocked && clientId !== undefined)
      context.unblock(clientId).catch((error: unknown) => report('unblock failed', error));
  }

  const acks = createAckBatches((key: string, id: string) => send('XACK', key, group, id));
  const ack = (key: string, id: string) => acks.ack(key, id);

  function decode(state: StreamState, entry: RawEntry): T | undefined {
    if (entry.fields === null) {
      ack(state.key, entry.id);
      return undefined;
    }
    try {
      return decodeMessage<T>(
        fieldValue(entry.fields, MESSAGE_FIELD),
        { stream: state.stream, entryId: entry.id },
        options.schema,
      );
    } catch (error) {
      report('undecodable entry acknowledged', error, { stream: state.stream, id: entry.id });
      ack(state.key, entry.id);
      return undefined;
    }
  }

  async function deliver(call: () => Promise<void>, id: string): Promise<boolean> {
    handlersRunning++;
    try {
      await call();
      return true;
    } catch (error) {
      report('handler failed; entry stays pending', error, { id });
      return false;
    } finally {
      handlersRunning--;
    }
  }

  function handle(state: StreamState, batch: RawEntry[]): Promise<void> {
    const perStream: ConsumeBatches<T> = {
      stream: state.stream,
      group,
      consumer,
      handleBatch: (entries: BusEntry<T>[]) => options.handleBatch(state.stream, entries),
    };
    return deliverBatch(perStream, batch, {
      decode: (entry) => ({ id: entry.id, message: decode(state, entry) }),
      deliver,
      ack: (id) => ack(state.key, id),
      isStopped: () => isStopped,
    });
  }

  async function createGroup(state: StreamState): Promise<void> {
    try {
      await send('XGROUP', 'CREATE', state.key, group, '0', 'MKSTREAM');
    } catch (error) {
      if (!isRedisError(error, 'BUSYGROUP')) throw error;
    }
    state.needsGroup = false;
  }

  type Read = { state: StreamState; entries: RawEntry[] };

  function byKey(reply: unknown): Map<string, RawEntry[]> {
    return new Map(parseMultiReadReply(reply).map(({ key, entries }) => [key, entries]));
  }

  /** XREADGROUP of `keys` from `cursors` (`>`: new entries), blocking up to `block` ms if given. */
  async function readGroup(keys: string[], cursors: string[], block?: number) {
    const blocking = block === undefined ? [] : ['BLOCK', block];
    return byKey(
      await send(
        'XREADGROUP',
        'GROUP',
        group,
        consumer,
        'COUNT',
        batchSize,
        ...blocking,
        'STREAMS',
        ...keys,
        ...cursors,
      ),
    );
  }

  async function readOwnPending(pending: StreamState[]): Promise<Read[]> {
    const keys = pending.map((s) => s.key);
    const cursors = pending.map((s) => s.pendingCursor ?? '0');
    const found = await readGroup(keys, cursors);
    return pending.map((state) => {
      const entries = found.get(state.key) ?? [];
      const last = entries[entries.length - 1];
      state.pendingCursor = last?.id;
      return { state, entries };
    });
  }

  async function reclaim(all: StreamState[]): Promise<Read[]> {
    const claims = await Promise.all(
      all.map(async (state) => {
        const claimed = parseAutoClaimReply(
          await send(
            'XAUTOCLAIM',
            state.key,
            group,
            consumer,
            reclaimAfterMs,
            state.reclaimCursor,
            'COUNT',
            batchSize,
          ),
        );
        state.reclaimCursor = claimed.cursor;
        return { state, entries: claimed.entries };
      }),
    );
    return claims;
  }

  async function readNew(all: StreamState[]): Promise<Read[]> {
    if (clientId === undefined) clientId = Number(await send('CLIENT', 'ID'));
    if (isChanged || isStopped) return [];
    const keys = all.map((s) => s.key);
    const news = keys.map(() => '>');
    isBlocked = true;
    let found: Map<string, RawEntry[]>;
    try {
      found = await readGroup(keys, news, blockMs);
    } finally {
      isBlocked = false;
    }
    // Woken by an entry: what was appended in the same instant (an agent's TASK_STARTING and
    // TASK_RUNNING go out in one write, but Redis wakes a blocked reader after the first command)
    // joins this batch, for one write of the master's instead of two in a row. One more round
    // trip per wake-up; a full batch needs none, the next read follows at once anyway.
    const woken = [...found.values()].reduce((sum, entries) => sum + entries.length, 0);
    if (woken > 0 && woken < batchSize && !isStopped) {
      for (const [key, entries] of await readGroup(keys, news))
        found.set(key, [...(found.get(key) ?? []), ...entries]);
    }
    return all.map((state) => ({ state, entries: found.get(state.key) ?? [] }));
  }

  async function run(): Promise<void> {
    let nextReclaimAtMs = Date.now() + reclaimEveryMs;
    let failures = 0;
    while (!isStopped) {
      try {
        isChanged = false;
        const all = [...states.values()];
        if (all.length === 0) {
          await sleeper.sleep(reclaimEveryMs);
          continue;
        }
        for (const state of all) if (state.needsGroup) await createGroup(state);
        const pending = all.filter((s) => s.pendingCursor !== undefined);
        let reads: Read[] = [];
        if (pending.length > 0) reads = await readOwnPending(pending);
        else if (Date.now() >= nextReclaimAtMs) {
          reads = await reclaim(all);
          if (all.every((s) => s.reclaimCursor === '0-0'))
            nextReclaimAtMs = Date.now() + reclaimEveryMs;
        }
        if (pending.length === 0 && reads.every((r) => r.entries.length === 0))
          reads = await readNew(all);
        // The last batch's acks were answered before this read was (ack-batches.ts).
        await acks.answered();
        // The streams of one read at once, as the in-process bus does (a reader per stream): each
        // stream's batch still follows its previous one, and handlers that write join one write
        // (the master's applier stores the intents of a turn together: ten agents' statuses, one
        // write instead of ten in a row).
        try {
          await Promise.all(
            reads.map(async ({ state, entries }) => {
              // A stream deleted meanwhile keeps its entries pending, as `delete` promises.
              if (isStopped || entries.length === 0 || states.get(state.key) !== state) return;
              await handle(state, entries);
            }),
          );
        } finally {
          acks.endBatch();
        }
        failures = 0;
      } catch (error) {
        if (isStopped) break;
        if (isRedisError(error, 'NOGROUP')) {
          report('consumer group missing; creating it again', error);
          for (const state of states.values()) {
            state.needsGroup = true;
            state.pendingCursor = undefined;
            state.reclaimCursor = '0-0';
          }
          continue;
        }
        report('bus read failed; retrying', error);
        failures += 1;
        await sleeper.sleep(Math.min(2_000, 50 * 2 ** failures));
      }
    }
  }

  for (const stream of options.streams ?? []) {
    const key = context.key(stream);
    states.set(key, { stream, key, needsGroup: true, pendingCursor: '0', reclaimCursor: '0-0' });
  }
  const done = run()
    // The last batch's acks answered (or failed: delivered again) before the connection goes.
    .then(() => acks.answered().catch(() => undefined))
    .catch((error: unknown) => report('consumer loop ended', error))
    .finally(() => connection.disconnect());

  return {
    add(stream) {
      const key = context.key(stream);
      if (states.has(key)) return;
      states.set(key, { stream, key, needsGroup: true, pendingCursor: '0', reclaimCursor: '0-0' });
      changed();
    },

    delete(stream) {
      if (states.delete(context.key(stream))) changed();
    },

    async stop() {
      if (!isStopped) {
        isStopped = true;
        sleeper.wake();
        const abort = () => {
          stopSignal.stop(new Error('consumer stopped'));
          connection.disconnect();
        };
        if (handlersRunning > 0 || acks.isWaiting()) {
          const timer = setTimeout(abort, STOP_ACK_GRACE_MS);
          void done.finally(() => clearTimeout(timer));
        } else abort();
      }
      await done;
    },
  };
}
