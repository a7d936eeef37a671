// The bus over Redis streams (ioredis): one connection for plain commands, one per consumer and
// per blocked read, since a blocking command holds its connection until it returns.
import { Redis } from './ioredis.js';
import type { Logger } from '../lib/logger.js';
import type { Bus, BusEntry, StreamSetSubscription, Subscription } from './bus.js';
import { MESSAGE_FIELD, decodeMessage, encodeMessage } from './message-codec.js';
import { startRedisConsumer } from './redis-consumer.js';
import { startRedisMultiConsumer } from './redis-multi-consumer.js';
import { createStopSignal } from './stop-signal.js';
import type { RawEntry } from './redis-replies.js';
import { fieldValue, parseEntries, parseReadReply } from './redis-replies.js';

export interface RedisBusOptions {
  /** `redis://[user:password@]host:port[/db]`, or `rediss://…` for TLS. */
  url: string;
  /** PEM CA bundle verifying a `rediss://` server (the system CAs when absent). */
  tlsCa?: Buffer;
  /** Prepended to every stream name. Default `pacer:`. */
  prefix?: string;
  logger: Logger;
  /**
   * ioredis's ready check (INFO on connect, waiting out a loading Redis). Default true; off for
   * an agent's ACL user, which may not run INFO (redis-acl.ts).
   */
  readyCheck?: boolean;
}

/** Idle blocking-read connections kept for reuse. */
const MAX_IDLE_READERS = 4;

export function createRedisBus(options: RedisBusOptions): Bus {
  const prefix = options.prefix ?? 'pacer:';
  const logger = options.logger.child({ component: 'bus' });
  const key = (stream: string) => `${prefix}${stream}`;
  const subscriptions = new Set<Subscription>();
  const readers = new Set<Redis>();
  const idleReaders: Redis[] = [];
  let isClosed = false;

  function connect(purpose: string, isBlocking: boolean): Redis {
    const connection = new Redis(options.url, {
      // RESP2 keeps XREAD replies as nested arrays (RESP3 would make them maps).
      protocol: 2,
      connectionName: `pacer-bus-${purpose}`,
      enableReadyCheck: options.readyCheck ?? true,
      // A consumer waits out an outage instead of failing every read; a publish fails after retries.
      maxRetriesPerRequest: isBlocking ? null : 20,
      // Blocked commands end client-side too, so a dead socket cannot hold a loop forever.
      ...(isBlocking ? { blockingTimeout: 30_000, blockingTimeoutGrace: 5_000 } : {}),
      // Commands issued in one tick (acks of a batch, a burst of publishes) go out in one write.
      enableAutoPipelining: true,
      // rediss:// turns TLS on (verifying); the CA only adds whom to trust.
      ...(options.tlsCa && options.url.startsWith('rediss:') ? { tls: { ca: options.tlsCa } } : {}),
    });
    // ioredis reconnects by itself; without a listener it would print an unhandled-error warning.
    connection.on('error', (error: unknown) =>
      logger.warn({ err: error, purpose }, 'redis connection error'),
    );
    return connection;
  }

  const commands = connect('commands', false);
  // close() rejects whatever still waits on Redis (see stop-signal.ts).
  const closing = createStopSignal();
  const call = (command: string, ...args: (string | number)[]) =>
    closing.race(commands.call(command, ...args));

  function decode<T>(stream: string, entries: RawEntry[]): BusEntry<T>[] {
    return entries.map((entry) => ({
      id: entry.id,
      message: decodeMessage<T>(
        entry.fields ? fieldValue(entry.fields, MESSAGE_FIELD) : undefined,
        {
          stream,
          entryId: entry.id,
        },
      ),
    }));
  }

  function assertOpen(): void {
    if (isClosed) throw new Error('bus is closed');
  }

  async function blockingRead(args: (string | number)[]): Promise<unknown> {
    const reader = idleReaders.pop() ?? connect('read', true);
    readers.add(reader);
    try {
      const reply = await closing.race(reader.call('XREAD', ...args));
      if (!isClosed && idleReaders.length < MAX_IDLE_READERS) idleReaders.push(reader);
      else {
        readers.delete(reader);
        reader.disconnect();
      }
      return reply;
    } catch (error) {
      readers.delete(reader);
      reader.disconnect();
      throw error;
    }
  }

  return {
    async publish(stream, message, publishOptions) {
      assertOpen();
      const trim =
        publishOptions?.maxLen === undefined ? [] : ['MAXLEN', '~', publishOptions.maxLen];
      const id = await call(
        'XADD',
        key(stream),
        ...trim,
        '*',
        MESSAGE_FIELD,
        encodeMessage(message),
      );
      if (typeof id !== 'string') throw new Error(`unexpected XADD reply: ${String(id)}`);
      return id;
    },

    consume(consumeOptions) {
      assertOpen();
      const inner = startRedisConsumer(
        { connect: () => connect('consumer', true), key, logger },
        consumeOptions,
      );
      const subscription: Subscription = {
        async stop() {
          subscriptions.delete(subscription);
          await inner.stop();
        },
      };
      subscriptions.add(subscription);
      return subscription;
    },

    consumeMany(consumeOptions) {
      assertOpen();
      const inner = startRedisMultiConsumer(
        {
          connect: () => connect('consumer', true),
          key,
          logger,
          unblock: async (clientId) => {
            await call('CLIENT', 'UNBLOCK', clientId);
          },
        },
        consumeOptions,
      );
      const subscription: StreamSetSubscription = {
        add: (stream) => inner.add(stream),
        delete: (stream) => inner.delete(stream),
        async stop() {
          subscriptions.delete(subscription);
          await inner.stop();
        },
      };
      subscriptions.add(subscription);
      return subscription;
    },

    async read<T>(
      stream: string,
      readOptions: { afterId?: string; count?: number; blockMs?: number } = {},
    ) {
      assertOpen();
      const count = readOptions.count === undefined ? [] : ['COUNT', readOptions.count];
      if (!readOptions.blockMs || readOptions.blockMs <= 0) {
        const start = readOptions.afterId === undefined ? '-' : `(${readOptions.afterId}`;
        return decode<T>(
          stream,
          parseEntries(await call('XRANGE', key(stream), start, '+', ...count)),
        );
      }
      const afterId = readOptions.afterId ?? '0-0';
      try {
        const reply = await blockingRead([
          ...count,
          'BLOCK',
          readOptions.blockMs,
          'STREAMS',
          key(stream),
          afterId,
        ]);
        return decode<T>(stream, parseReadReply(reply));
      } catch (error) {
        // close() disconnects blocked readers; they end with nothing rather than an error.
        if (isClosed) return [];
        throw error;
      }
    },

    async tail<T>(stream: string, count: number) {
      assertOpen();
      if (count <= 0) return [];
      const reply = await call('XREVRANGE', key(stream), '+', '-', 'COUNT', count);
      return decode<T>(stream, parseEntries(reply).reverse());
    },

    async remove(stream) {
      assertOpen();
      await call('DEL', key(stream));
    },

    async close() {
      if (isClosed) return;
      isClosed = true;
      closing.stop(new Error('bus is closed'));
      for (const reader of readers) reader.disconnect();
      readers.clear();
      idleReaders.length = 0;
      await Promise.all([...subscriptions].map((subscription) => subscription.stop()));
      if (commands.status === 'ready') {
        // QUIT lets Redis finish what was sent; bounded, since Redis may vanish meanwhile.
        const quit = commands.quit().catch(() => 'gone');
        await Promise.race([quit, new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
      }
      // Reconnecting (Redis gone) QUIT would wait in the offline queue forever: just drop it.
      commands.disconnect();
    },
  };
}
