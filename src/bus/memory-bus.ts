// The in-process bus of `pacer dev`: the same streams, groups and at-least-once delivery as the
// Redis bus, in memory. Messages are stored as JSON so handlers see what Redis would give them.
import type { Logger } from '../lib/logger.js';
import { createLogger } from '../lib/logger.js';
import type { Bus, BusEntry, StreamSetSubscription, Subscription } from './bus.js';
import { startMemoryConsumer } from './memory-consumer.js';
import type { MemoryStream, StoredEntry } from './memory-stream.js';
import { createMemoryStream } from './memory-stream.js';
import { decodeMessage, encodeMessage } from './message-codec.js';

export interface MemoryBusOptions {
  /** Where consumer failures are logged when a subscriber gives no onError. Default: a `bus` logger. */
  logger?: Logger;
  /** Epoch ms for entry ids and idle times. Default `Date.now`. */
  now?: () => number;
}

export function createMemoryBus(options: MemoryBusOptions = {}): Bus {
  const logger = options.logger ?? createLogger({ name: 'bus' });
  const now = options.now ?? Date.now;
  const streams = new Map<string, MemoryStream>();
  const waiters = new Map<string, Set<() => void>>();
  const subscriptions = new Set<Subscription>();
  let isClosed = false;

  function stream(name: string): MemoryStream {
    let found = streams.get(name);
    if (!found) {
      found = createMemoryStream();
      streams.set(name, found);
    }
    return found;
  }

  function onPublish(name: string, wake: () => void): () => void {
    let set = waiters.get(name);
    if (!set) {
      set = new Set();
      waiters.set(name, set);
    }
    set.add(wake);
    return () => {
      const current = waiters.get(name);
      current?.delete(wake);
      if (current?.size === 0) waiters.delete(name);
    };
  }

  function wakeAll(name: string): void {
    const set = waiters.get(name);
    if (!set) return;
    waiters.delete(name);
    // Waking only resolves promises: consumers continue in a later microtask, never inside publish.
    for (const wake of set) wake();
  }

  function decode<T>(name: string, entries: StoredEntry[]): BusEntry<T>[] {
    return entries.map((entry) => ({
      id: entry.id,
      message: decodeMessage<T>(entry.json, { stream: name, entryId: entry.id }),
    }));
  }

  function assertOpen(): void {
    if (isClosed) throw new Error('bus is closed');
  }

  return {
    async publish(name, message, publishOptions) {
      assertOpen();
      const entry = stream(name).append({
        json: encodeMessage(message),
        nowMs: now(),
        maxLen: publishOptions?.maxLen,
      });
      wakeAll(name);
      return entry.id;
    },

    consume(consumeOptions) {
      assertOpen();
      const inner = startMemoryConsumer({ stream, onPublish, logger, now }, consumeOptions);
      const subscription: Subscription = {
        async stop() {
          subscriptions.delete(subscription);
          await inner.stop();
        },
      };
      subscriptions.add(subscription);
      return subscription;
    },

    // In process a reader costs no connection: one consumer per stream gives the same guarantees.
    consumeMany(consumeOptions) {
      assertOpen();
      const { streams: initial = [], handleBatch, ...common } = consumeOptions;
      const readers = new Map<string, Subscription>();
      let isStopped = false;
      const add = (name: string) => {
        if (isStopped || readers.has(name)) return;
        readers.set(
          name,
          startMemoryConsumer(
            { stream, onPublish, logger, now },
            { ...common, stream: name, handleBatch: (entries) => handleBatch(name, entries) },
          ),
        );
      };
      const subscription: StreamSetSubscription = {
        add,
        delete(name) {
          const reader = readers.get(name);
          readers.delete(name);
          void reader?.stop();
        },
        async stop() {
          isStopped = true;
          subscriptions.delete(subscription);
          await Promise.all([...readers.values()].map((reader) => reader.stop()));
          readers.clear();
        },
      };
      for (const name of initial) add(name);
      subscriptions.add(subscription);
      return subscription;
    },

    async read<T>(
      name: string,
      readOptions: { afterId?: string; count?: number; blockMs?: number } = {},
    ) {
      assertOpen();
      const afterId = readOptions.afterId ?? '0-0';
      const count = readOptions.count ?? Number.POSITIVE_INFINITY;
      const found = streams.get(name)?.after(afterId, count) ?? [];
      if (found.length > 0 || !readOptions.blockMs || readOptions.blockMs <= 0) {
        return decode<T>(name, found);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(finish, readOptions.blockMs);
        const cancel = onPublish(name, finish);
        const cancelClose = onPublish(CLOSE_SIGNAL, finish);
        function finish() {
          clearTimeout(timer);
          cancel();
          cancelClose();
          resolve();
        }
      });
      if (isClosed) return [];
      return decode<T>(name, streams.get(name)?.after(afterId, count) ?? []);
    },

    async tail<T>(name: string, count: number) {
      assertOpen();
      return decode<T>(name, streams.get(name)?.last(count) ?? []);
    },

    async remove(name) {
      assertOpen();
      streams.delete(name);
      // Blocked readers and waiting consumers look again and find the stream gone.
      wakeAll(name);
    },

    async close() {
      if (isClosed) return;
      isClosed = true;
      wakeAll(CLOSE_SIGNAL);
      await Promise.all([...subscriptions].map((subscription) => subscription.stop()));
    },
  };
}

/** A waiter key no stream can have (stream names never contain NUL): woken by close(). */
const CLOSE_SIGNAL = '\u0000close';
