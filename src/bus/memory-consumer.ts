// The consumer-group loop of memory-bus.ts: own pending entries first, then idle entries of the
// group claimed now and then, then new entries; waits for a publish when there is nothing.
import type { Logger } from '../lib/logger.js';
import type { ConsumeOptions, Subscription } from './bus.js';
import { deliverBatch } from './deliver-batch.js';
import type { MemoryStream, StoredEntry } from './memory-stream.js';
import { createAbortableSleep } from './abortable-sleep.js';
import { decodeMessage } from './message-codec.js';
import { reportError } from './report-error.js';
import { reclaimIntervalMs } from './reclaim-interval.js';

export interface MemoryConsumerContext {
  /** The stream of that name, created when missing (looked up per batch: `remove` may replace it). */
  stream(name: string): MemoryStream;
  /** Calls `wake` once at the next publish to `stream`; returns a function that cancels. */
  onPublish(stream: string, wake: () => void): () => void;
  logger: Logger;
  now(): number;
}

export function startMemoryConsumer<T>(
  context: MemoryConsumerContext,
  options: ConsumeOptions<T>,
): Subscription {
  const { stream: name, group: groupName, consumer, onError } = options;
  const batchSize = Math.max(1, options.batchSize ?? 100);
  const reclaimAfterMs = options.reclaimAfterMs ?? 30_000;
  const reclaimEveryMs = reclaimIntervalMs(reclaimAfterMs);
  const where = { stream: name, group: groupName, consumer };
  const sleeper = createAbortableSleep();
  let isStopped = false;

  /** The entry's message; undefined (and acknowledged) when it does not decode. */
  function decode(stream: MemoryStream, entry: StoredEntry): T | undefined {
    try {
      return decodeMessage<T>(entry.json, { stream: name, entryId: entry.id }, options.schema);
    } catch (error) {
      // Poison message: report it and acknowledge it, or it would come back forever.
      reportError(context.logger, onError, {
        error,
        what: 'undecodable entry acknowledged',
        context: { ...where, id: entry.id },
      });
      stream.ack(stream.group(groupName), entry.id);
      return undefined;
    }
  }

  /** Runs the handler; false when it rejected (reported; the entries stay pending). */
  async function deliver(call: () => Promise<void>, id: string): Promise<boolean> {
    try {
      await call();
      return true;
    } catch (error) {
      reportError(context.logger, onError, {
        error,
        what: 'handler failed; entry stays pending',
        context: { ...where, id },
      });
      return false;
    }
  }

  function handleAll(stream: MemoryStream, batch: StoredEntry[]): Promise<void> {
    const group = stream.group(groupName);
    return deliverBatch(options, batch, {
      decode: (entry) => ({ id: entry.id, message: decode(stream, entry) }),
      deliver,
      ack: (id) => stream.ack(group, id),
      isStopped: () => isStopped,
    });
  }

  async function run(): Promise<void> {
    // Never deliver in the same tick as consume() or publish().
    await Promise.resolve();
    let isReadingOwnPending = true;
    let ownPendingAfter = -1;
    let nextReclaimAtMs = context.now() + reclaimEveryMs;
    while (!isStopped) {
      const stream = context.stream(name);
      const group = stream.group(groupName);
      const nowMs = context.now();
      let batch: StoredEntry[] = [];
      if (isReadingOwnPending) {
        batch = stream.ownPending({
          group,
          consumer,
          afterIndex: ownPendingAfter,
          count: batchSize,
          nowMs,
        });
        const last = batch[batch.length - 1];
        if (last) ownPendingAfter = last.index;
        else isReadingOwnPending = false;
      } else {
        if (nowMs >= nextReclaimAtMs) {
          batch = stream.claimIdle({
            group,
            consumer,
            minIdleMs: reclaimAfterMs,
            count: batchSize,
            nowMs,
          });
          if (batch.length < batchSize) nextReclaimAtMs = nowMs + reclaimEveryMs;
        }
        if (batch.length === 0)
          batch = stream.takeNew({ group, consumer, count: batchSize, nowMs });
        if (batch.length === 0) {
          const cancel = context.onPublish(name, () => sleeper.wake());
          await sleeper.sleep(nextReclaimAtMs - nowMs);
          cancel();
          continue;
        }
      }
      await handleAll(stream, batch);
      // A full batch means more may be waiting: let timers and I/O run before the next one.
      if (batch.length >= batchSize) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  const done = run().catch((error: unknown) => {
    reportError(context.logger, onError, { error, what: 'consumer loop ended', context: where });
  });

  return {
    async stop() {
      isStopped = true;
      sleeper.wake();
      await done;
    },
  };
}
