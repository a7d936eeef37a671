// One in-process stream for memory-bus.ts: entries in a trimmed array, consumer groups with a
// next-entry position and a pending list. Every operation is O(1) per entry it touches.
import type { StreamId } from './stream-id.js';
import { compareStreamIds, formatStreamId, nextStreamId, parseStreamId } from './stream-id.js';

export interface StoredEntry {
  id: string;
  key: StreamId;
  /** Position since the stream was created; never reused, so groups can point at it. */
  index: number;
  /** The message as JSON, so every delivery decodes a fresh copy, as with Redis. */
  json: string;
}

interface PendingEntry {
  entry: StoredEntry;
  consumer: string;
  deliveredAtMs: number;
}

export interface MemoryGroup {
  /** Index of the next entry never delivered to this group. */
  nextIndex: number;
  /** Delivered, not yet acknowledged; kept in order of (last) delivery time. */
  pending: Map<string, PendingEntry>;
}

export interface MemoryStream {
  /** Appends an entry; with `maxLen` drops the oldest entries beyond that many. */
  append(options: { json: string; nowMs: number; maxLen?: number }): StoredEntry;
  /** Entries strictly after `afterId`, oldest first, at most `count`. */
  after(afterId: string, count: number): StoredEntry[];
  /** The last `count` entries, oldest first. */
  last(count: number): StoredEntry[];
  /** The named group, created at the start of the stream when missing. */
  group(name: string): MemoryGroup;
  /** Delivers up to `count` entries the group has never seen to `consumer` (they become pending). */
  takeNew(options: {
    group: MemoryGroup;
    consumer: string;
    count: number;
    nowMs: number;
  }): StoredEntry[];
  /** The consumer's own pending entries with an index above `afterIndex`, oldest first. */
  ownPending(options: {
    group: MemoryGroup;
    consumer: string;
    afterIndex: number;
    count: number;
    nowMs: number;
  }): StoredEntry[];
  /** Moves up to `count` entries pending longer than `minIdleMs` (any consumer) to `consumer`. */
  claimIdle(options: {
    group: MemoryGroup;
    consumer: string;
    minIdleMs: number;
    count: number;
    nowMs: number;
  }): StoredEntry[];
  /** Removes an entry from the group's pending list. Idempotent. */
  ack(group: MemoryGroup, id: string): void;
}

export function createMemoryStream(): MemoryStream {
  // Live entries are entries[head..]; trimming advances head and compacts now and then, so
  // trimming costs O(1) amortised instead of an O(n) shift per publish.
  let entries: StoredEntry[] = [];
  let head = 0;
  let baseIndex = 0; // index of entries[0]
  let lastKey: StreamId = { ms: 0, seq: 0 };
  const groups = new Map<string, MemoryGroup>();

  const firstLiveIndex = () => baseIndex + head;
  const endIndex = () => baseIndex + entries.length;
  const at = (index: number) => entries[index - baseIndex];

  function trim(maxLen: number): void {
    while (entries.length - head > maxLen) head += 1;
    if (head > 1024 && head * 2 > entries.length) {
      entries = entries.slice(head);
      baseIndex += head;
      head = 0;
    }
  }

  /** Position of the first live entry newer than `key` (binary search). */
  function indexAfter(key: StreamId): number {
    let low = firstLiveIndex();
    let high = endIndex();
    while (low < high) {
      const mid = (low + high) >>> 1;
      const entry = at(mid);
      if (entry && compareStreamIds(entry.key, key) <= 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  function redeliver(options: {
    group: MemoryGroup;
    pending: PendingEntry;
    consumer: string;
    nowMs: number;
  }): void {
    const { group, pending } = options;
    // Re-inserting keeps the map ordered by delivery time, which claimIdle relies on.
    group.pending.delete(pending.entry.id);
    group.pending.set(pending.entry.id, {
      entry: pending.entry,
      consumer: options.consumer,
      deliveredAtMs: options.nowMs,
    });
  }

  return {
    append({ json, nowMs, maxLen }) {
      lastKey = nextStreamId(lastKey, nowMs);
      const entry: StoredEntry = {
        id: formatStreamId(lastKey),
        key: lastKey,
        index: endIndex(),
        json,
      };
      entries.push(entry);
      if (maxLen !== undefined) trim(maxLen);
      return entry;
    },

    after(afterId, count) {
      const result: StoredEntry[] = [];
      const end = endIndex();
      for (let i = indexAfter(parseStreamId(afterId)); i < end && result.length < count; i += 1) {
        const entry = at(i);
        if (entry) result.push(entry);
      }
      return result;
    },

    last(count) {
      if (count <= 0) return [];
      const start = Math.max(firstLiveIndex(), endIndex() - count);
      return entries.slice(start - baseIndex);
    },

    group(name) {
      let group = groups.get(name);
      if (!group) {
        group = { nextIndex: firstLiveIndex(), pending: new Map() };
        groups.set(name, group);
      }
      return group;
    },

    takeNew({ group, consumer, count, nowMs }) {
      const result: StoredEntry[] = [];
      // Entries trimmed before the group saw them are gone, as with Redis.
      group.nextIndex = Math.max(group.nextIndex, firstLiveIndex());
      const end = endIndex();
      while (group.nextIndex < end && result.length < count) {
        const entry = at(group.nextIndex);
        group.nextIndex += 1;
        if (!entry) continue;
        group.pending.set(entry.id, { entry, consumer, deliveredAtMs: nowMs });
        result.push(entry);
      }
      return result;
    },

    ownPending({ group, consumer, afterIndex, count, nowMs }) {
      const mine: PendingEntry[] = [];
      for (const pending of group.pending.values()) {
        if (pending.consumer === consumer && pending.entry.index > afterIndex) mine.push(pending);
      }
      mine.sort((x, y) => x.entry.index - y.entry.index);
      const chosen = mine.slice(0, count);
      for (const pending of chosen) redeliver({ group, pending, consumer, nowMs });
      return chosen.map((pending) => pending.entry);
    },

    claimIdle({ group, consumer, minIdleMs, count, nowMs }) {
      const chosen: PendingEntry[] = [];
      for (const pending of group.pending.values()) {
        // Ordered by delivery time: the first entry not idle long enough ends the scan.
        if (nowMs - pending.deliveredAtMs < minIdleMs || chosen.length >= count) break;
        chosen.push(pending);
      }
      chosen.sort((x, y) => x.entry.index - y.entry.index);
      for (const pending of chosen) redeliver({ group, pending, consumer, nowMs });
      return chosen.map((pending) => pending.entry);
    },

    ack(group, id) {
      group.pending.delete(id);
    },
  };
}
