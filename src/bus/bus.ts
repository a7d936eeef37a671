// The bus interface: append-only streams with consumer groups and at-least-once delivery.
// Implemented by redis-bus.ts (Redis streams) and memory-bus.ts (in-process, `pacer dev`).
import type { MessageSchema } from './message-check.js';

export interface BusEntry<T> {
  /** Stream entry id, increasing within a stream (`<ms>-<n>`). */
  id: string;
  message: T;
}

interface ConsumeCommon<T> {
  /** Stream name (see `topics`); the bus adds its key prefix. */
  stream: string;
  /** Consumer group; created at the start of the stream when missing. */
  group: string;
  /** This reader's name within the group; a restarted reader should reuse it. */
  consumer: string;
  /** Entries read per round trip. Default 100. */
  batchSize?: number;
  /** Pending entries idle this long (of any consumer in the group) are claimed and redelivered. Default 30 000. */
  reclaimAfterMs?: number;
  /** Called when the handler or the transport fails; the loop keeps going. */
  onError?: (error: unknown) => void;
  /**
   * Checks each message before the handler sees it (for streams written by agents, which are
   * untrusted). A message it rejects is reported to `onError` as a `BusDecodeError` and
   * acknowledged, like an entry that is not JSON: it never reaches the handler nor blocks the stream.
   */
  schema?: MessageSchema<T>;
}

/** One entry at a time. */
export interface ConsumeEach<T> extends ConsumeCommon<T> {
  /**
   * Called once per entry, in stream order per consumer. The entry is acknowledged when the
   * promise resolves; when it rejects the entry stays pending and is delivered again. Delivery
   * is at least once, so the handler must be idempotent.
   */
  handler: (entry: BusEntry<T>) => Promise<void>;
  handleBatch?: never;
}

/**
 * The entries of one read together (at most `batchSize`, in stream order), for a reader whose
 * work is cheaper in bulk (one store write for many status updates).
 */
export interface ConsumeBatches<T> extends ConsumeCommon<T> {
  /**
   * Called once per batch of decoded entries (never empty). All of them are acknowledged when
   * the promise resolves; when it rejects, all stay pending and are delivered again (in a later
   * batch, not necessarily the same one). At least once, so it must be idempotent per entry.
   */
  handleBatch: (entries: BusEntry<T>[]) => Promise<void>;
  handler?: never;
}

export type ConsumeOptions<T> = ConsumeEach<T> | ConsumeBatches<T>;

/**
 * One consumer-group reader over a changing set of streams (the master over every agent's own
 * streams): one connection and one blocking read for all of them, the same guarantees per stream
 * as `consume`.
 */
export interface ConsumeManyOptions<T> extends Omit<ConsumeCommon<T>, 'stream'> {
  /** The streams read from the start; `add` and `delete` change the set later. */
  streams?: string[];
  /**
   * Called with the decoded entries of one read of one stream (never empty, stream order). All
   * are acknowledged when it resolves; when it rejects they stay pending and come back. At least
   * once, so it must be idempotent per entry. Calls for different streams may run at once; those
   * for one stream never do.
   */
  handleBatch: (stream: string, entries: BusEntry<T>[]) => Promise<void>;
}

export interface StreamSetSubscription extends Subscription {
  /** Starts reading `stream` too (its group is created at its start when missing). Idempotent. */
  add(stream: string): void;
  /** Stops reading `stream`; what is pending in it stays pending. Idempotent. */
  delete(stream: string): void;
}

export interface Subscription {
  /** Stops reading after the entry in hand; resolves when the loop has ended. Idempotent. */
  stop(): Promise<void>;
}

export interface Bus {
  /** Appends a message; resolves with its entry id. `maxLen` trims the stream to about that many entries. */
  publish<T extends object>(
    stream: string,
    message: T,
    options?: { maxLen?: number },
  ): Promise<string>;
  /** Starts a consumer-group reader (see `ConsumeOptions`). */
  consume<T>(options: ConsumeOptions<T>): Subscription;
  /** Starts one consumer-group reader over a set of streams (see `ConsumeManyOptions`). */
  consumeMany<T>(options: ConsumeManyOptions<T>): StreamSetSubscription;
  /**
   * Reads entries after `afterId` (exclusive; default from the start), oldest first, without a
   * group. With `blockMs`, waits up to that long for new entries when there are none.
   */
  read<T>(
    stream: string,
    options?: { afterId?: string; count?: number; blockMs?: number },
  ): Promise<BusEntry<T>[]>;
  /** The last `count` entries, oldest first. */
  tail<T>(stream: string, count: number): Promise<BusEntry<T>[]>;
  /** Deletes a stream and its groups. Idempotent. */
  remove(stream: string): Promise<void>;
  /** Stops every subscription and closes connections. */
  close(): Promise<void>;
}
