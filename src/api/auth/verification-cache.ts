// Successful verifications kept in memory, so a client that sends the same header again costs
// one Map lookup instead of a scrypt. Bounded (an approximate LRU: CLOCK, second chance), and a
// revoked principal's entries are dropped at once.
import type { Principal } from '../../domain/index.js';

/** One verified header. */
export interface CachedVerification {
  principal: Principal;
  /** The stored hash the secret matched: a re-check compares it without a scrypt. */
  secretHash: string;
  /** Epoch ms after which the entry is checked against the store again. */
  checkAfter: number;
}

export interface VerificationCache {
  /** The entry of `header`, marked as used; undefined when absent. */
  get(header: string): CachedVerification | undefined;
  set(header: string, entry: CachedVerification): void;
  /** Drops every entry of the principal `name`. */
  dropPrincipal(name: string): void;
  readonly size: number;
}

interface Slot {
  entry: CachedVerification;
  /** Used since the eviction sweep last passed it (CLOCK's reference bit). */
  isUsed: boolean;
}

/**
 * A cache of at most `maxEntries` verified headers, keyed by the header itself: V8 hashes a
 * string once and keeps the hash, and equality is exact. (A sha256 of the header cost 2–9 µs per
 * request, a fifth of a GET /v2/apps/{id}; a short non-cryptographic hash as the only key would
 * let a colliding header pass as another principal.) A hit sets a bit rather than reordering
 * the Map; eviction gives used entries a second chance.
 */
export function createVerificationCache(options: { maxEntries: number }): VerificationCache {
  const slots = new Map<string, Slot>();

  function evictOne(): void {
    // A used entry loses its bit and moves to the end; the iteration reaches it again there,
    // so one pass always ends with a victim (the oldest entry unused since it was last passed).
    for (const [key, slot] of slots) {
      if (!slot.isUsed) {
        slots.delete(key);
        return;
      }
      slot.isUsed = false;
      slots.delete(key);
      slots.set(key, slot);
    }
  }

  return {
    get(header) {
      const slot = slots.get(header);
      if (slot === undefined) return undefined;
      slot.isUsed = true;
      return slot.entry;
    },
    set(header, entry) {
      const slot = slots.get(header);
      if (slot) {
        slot.entry = entry;
        slot.isUsed = true;
        return;
      }
      slots.set(header, { entry, isUsed: false });
      while (slots.size > options.maxEntries) evictOne();
    },
    dropPrincipal(name) {
      for (const [key, slot] of slots) if (slot.entry.principal.name === name) slots.delete(key);
    },
    get size() {
      return slots.size;
    },
  };
}
