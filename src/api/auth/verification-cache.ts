// Successful verifications kept in memory, so a client that sends the same header again costs
// a hash of the header instead of a scrypt. Bounded (least recently used goes first), and a
// revoked principal's entries are dropped at once.
import { createHash } from 'node:crypto';
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
  /** The entry of `header`, marked recently used; undefined when absent. */
  get(header: string): CachedVerification | undefined;
  set(header: string, entry: CachedVerification): void;
  /** Drops every entry of the principal `name`. */
  dropPrincipal(name: string): void;
  readonly size: number;
}

/**
 * The key: sha256 of the header, so the cache never holds a secret in the clear (a heap dump
 * shows hashes) and long headers cost one fixed-size key.
 */
function keyOf(header: string): string {
  return createHash('sha256').update(header).digest('base64url');
}

/** A cache of at most `maxEntries` verified headers. */
export function createVerificationCache(options: { maxEntries: number }): VerificationCache {
  const entries = new Map<string, CachedVerification>();
  return {
    get(header) {
      const key = keyOf(header);
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      // Map keeps insertion order: re-inserting makes it the most recently used.
      entries.delete(key);
      entries.set(key, entry);
      return entry;
    },
    set(header, entry) {
      const key = keyOf(header);
      entries.delete(key);
      entries.set(key, entry);
      while (entries.size > options.maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done === true) break;
        entries.delete(oldest.value);
      }
    },
    dropPrincipal(name) {
      for (const [key, entry] of entries) if (entry.principal.name === name) entries.delete(key);
    },
    get size() {
      return entries.size;
    },
  };
}
