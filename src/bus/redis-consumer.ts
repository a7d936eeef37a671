// The consumer-group loop of redis-bus.ts, on its own connection (XREADGROUP BLOCK would hold up
// any other command): own pending entries first, then idle ones claimed, then new ones.
//
//   start ─► XGROUP CREATE ─► XREADGROUP 0 (own pending, until empty)
//                                 │
//              ┌──────────────────▼───────────────────┐
//              │ every reclaim interval: XAUTOCLAIM    │──► handle each, XACK on success
//              │ else: XREADGROUP > BLOCK              │
//              └──────────────────┬───────────────────┘
//   NOGROUP (stream deleted, Redis restarted) ─► create the group again, carry on
//   other errors ─► report, back off (100 ms … 2 s), carry on
import type { Redis } from './ioredis.js';
import type { Logger } from '../lib/logger.js';
import type { ConsumeOptions, Subscription } from './bus.js';
import { deliverBatch } from './deliver-batch.js';
import { createAbortableSleep } from './abortable-sleep.js';
import { createAckBatches } from './ack-batches.js';
import { createStopSignal } from './stop-signal.js';
import { MESSAGE_FIELD, decodeMessage } from './message-codec.js';
import { reclaimIntervalMs } from './reclaim-interval.js';
import type { RawEntry } from './redis-replies.js';
import { fieldValue, isRedisError, parseAutoClaimReply, parseReadReply } from './redis-replies.js';
import { reportError } from './report-error.js';

export interface RedisConsumerContext {
  /** A new connection for this consumer alone; the consumer disconnects it when it ends. */
  connect(): Redis;
  /** The Redis key of a stream name. */
  key(stream: string): string;
  logger: Logger;
}

/** Longest a single XREADGROUP blocks, so reclaiming and stop checks keep their pace. */
const MAX_BLOCK_MS = 2_000;

/** How long stop() lets the ack of the entry in hand take before it drops the connection. */
const STOP_ACK_GRACE_MS = 5_000;

export function startRedisConsumer<T>(
  context: RedisConsumerContext,
  options: ConsumeOptions<T>,
): Subscription {
  const { stream, group, consumer, onError } = options;
  const key = context.key(stream);
  const batchSize = Math.max(1, options.batchSize ?? 100);
  const reclaimAfterMs = options.reclaimAfterMs ?? 30_000;
  const reclaimEveryMs = reclaimIntervalMs(reclaimAfterMs);
  const blockMs = Math.min(MAX_BLOCK_MS, reclaimEveryMs);
  const where = { stream, group, consumer };
  const connection = context.connect();
  const sleeper = createAbortableSleep();
  const stopSignal = createStopSignal();
  /** Every command goes through here, so stop() can end a wait on a dead connection. */
  const send = (command: string, ...args: (string | number)[]) =>
    stopSignal.race(connection.call(command, ...args));
  let isStopped = false;
  let isInHandler = false;

  function report(what: string, error: unknown, id?: string): void {
    reportError(context.logger, onError, { error, what, context: id ? { ...where, id } : where });
  }

  async function createGroup(): Promise<void> {
    try {
      await send('XGROUP', 'CREATE', key, group, '0', 'MKSTREAM');
    } catch (error) {
      if (!isRedisError(error, 'BUSYGROUP')) throw error;
    }
  }

  // Acks are sent without waiting for the reply (one connection keeps them in order), so a
  // batch costs one round trip instead of one per entry. A lost ack only means the entry is
  // delivered again, which at-least-once allows.
  const acks = createAckBatches((id: string) => send('XACK', key, group, id));
  const ack = (id: string) => acks.ack(id);

  /** The entry's message; undefined (and acknowledged) when there is nothing to deliver. */
  function decode(entry: RawEntry): T | undefined {
    if (entry.fields === null) {
      // Deleted (trimmed) while pending: nothing left to deliver.
      context.logger.warn(
        { ...where, id: entry.id },
        'pending entry was trimmed away; acknowledged',
      );
      ack(entry.id);
      return undefined;
    }
    try {
      return decodeMessage<T>(
        fieldValue(entry.fields, MESSAGE_FIELD),
        { stream, entryId: entry.id },
        options.schema,
      );
    } catch (error) {
      // Poison message: report it and acknowledge it, or it would come back forever.
      report('undecodable entry acknowledged', error, entry.id);
      ack(entry.id);
      return undefined;
    }
  }

  /** Runs the handler; false when it rejected (reported; the entries stay pending). */
  async function deliver(call: () => Promise<void>, id: string): Promise<boolean> {
    isInHandler = true;
    try {
      await call();
      return true;
    } catch (error) {
      report('handler failed; entry stays pending', error, id);
      return false;
    } finally {
      isInHandler = false;
    }
  }

  function handleAll(batch: RawEntry[]): Promise<void> {
    return deliverBatch(options, batch, {
      decode: (entry) => ({ id: entry.id, message: decode(entry) }),
      deliver,
      ack,
      isStopped: () => isStopped,
    });
  }

  async function run(): Promise<void> {
    let needsGroup = true;
    let isReadingOwnPending = true;
    let ownPendingCursor = '0';
    let reclaimCursor = '0-0';
    let nextReclaimAtMs = Date.now() + reclaimEveryMs;
    let failures = 0;

    async function nextBatch(): Promise<RawEntry[]> {
      if (isReadingOwnPending) {
        const entries = parseReadReply(
          await send(
            'XREADGROUP',
            'GROUP',
            group,
            consumer,
            'COUNT',
            batchSize,
            'STREAMS',
            key,
            ownPendingCursor,
          ),
        );
        const last = entries[entries.length - 1];
        if (last) ownPendingCursor = last.id;
        else isReadingOwnPending = false;
        return entries;
      }
      if (Date.now() >= nextReclaimAtMs) {
        const claimed = parseAutoClaimReply(
          await send(
            'XAUTOCLAIM',
            key,
            group,
            consumer,
            reclaimAfterMs,
            reclaimCursor,
            'COUNT',
            batchSize,
          ),
        );
        reclaimCursor = claimed.cursor;
        if (claimed.cursor === '0-0') nextReclaimAtMs = Date.now() + reclaimEveryMs;
        if (claimed.entries.length > 0) return claimed.entries;
      }
      if (isStopped) return [];
      return parseReadReply(
        await send(
          'XREADGROUP',
          'GROUP',
          group,
          consumer,
          'COUNT',
          batchSize,
          'BLOCK',
          blockMs,
          'STREAMS',
          key,
          '>',
        ),
      );
    }

    while (!isStopped) {
      try {
        if (needsGroup) {
          await createGroup();
          needsGroup = false;
        }
        const batch = await nextBatch();
        // The last batch's acks were answered before this read was (ack-batches.ts).
        await acks.answered();
        try {
          await handleAll(batch);
        } finally {
          acks.endBatch();
        }
        failures = 0;
      } catch (error) {
        if (isStopped) break;
        if (isRedisError(error, 'NOGROUP')) {
          // The stream was deleted or Redis restarted empty: whatever was pending is gone.
          report('consumer group missing; creating it again', error);
          needsGroup = true;
          isReadingOwnPending = false;
          reclaimCursor = '0-0';
          continue;
        }
        report('bus read failed; retrying', error);
        failures += 1;
        await sleeper.sleep(Math.min(2_000, 50 * 2 ** failures));
      }
    }
  }

  const done = run()
    // The last batch's acks answered (or failed: delivered again) before the connection goes.
    .then(() => acks.answered().catch(() => undefined))
    .catch((error: unknown) => report('consumer loop ended', error))
    .finally(() => connection.disconnect());

  return {
    async stop() {
      if (!isStopped) {
        isStopped = true;
        sleeper.wake();
        const abort = () => {
          stopSignal.stop(new Error('consumer stopped'));
          connection.disconnect();
        };
        if (isInHandler || acks.isWaiting()) {
          // The entry in hand finishes and is acknowledged; with Redis gone the ack could wait
          // forever (the connection queues commands while it reconnects), so bound it.
          const timer = setTimeout(abort, STOP_ACK_GRACE_MS);
          void done.finally(() => clearTimeout(timer));
        } else {
          // Any command in flight (a blocked read, a read queued during an outage) is cut short.
          abort();
        }
      }
      await done;
    },
  };
}
