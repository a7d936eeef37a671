// Who is calling: an Authorization header → the principal it proves, or UnauthenticatedError.
// A cache hit answers synchronously; a miss costs one store read and one scrypt, at most a few
// at a time (a flood of wrong secrets must not take the master's memory or CPU).
import type { Principal } from '../../domain/index.js';
import { UnauthenticatedError, UnavailableError } from '../../domain/index.js';
import type { Clock } from '../../lib/index.js';
import type { Store } from '../../store/index.js';
import { parseAuthorization } from './credentials.js';
import { nameInSecret } from './secret-format.js';
import { DECOY_HASH, verifySecret } from './secret-hash.js';
import { createVerificationCache } from './verification-cache.js';
import type { CachedVerification } from './verification-cache.js';

/** The principal `PACER_BOOTSTRAP_TOKEN` creates; a secret not in Pacer's format is tried as its. */
export const BOOTSTRAP_PRINCIPAL = 'bootstrap';

export interface Authenticator {
  /**
   * The principal `header` proves: synchronously when it was verified lately, else a promise.
   * Throws (or rejects with) `UnauthenticatedError` for a missing, malformed or wrong credential,
   * `UnavailableError` when too many verifications are waiting.
   */
  authenticate(header: string | undefined): Principal | Promise<Principal>;
  /** Forgets every verification of `name` and tells the `onRevoke` listeners, at once. */
  revoke(name: string): void;
  /** Calls `listener` with each revoked name (open event streams close); returns the unsubscribe. */
  onRevoke(listener: (name: string) => void): () => void;
}

export interface AuthenticatorOptions {
  store: Store;
  clock: Clock;
  /** Verified headers kept (default 10,000). */
  cacheEntries?: number;
  /**
   * How long a verification holds before the store is asked again whether the principal still
   * exists with the same secret (default 5 s): bounds how long a token revoked through another
   * master keeps working here (plus the one store read of the re-check). No scrypt is spent on
   * the re-check.
   */
  recheckMs?: number;
  /** scrypt runs at once (default 2; each takes 16 MiB and one libuv thread). */
  maxConcurrentHashes?: number;
  /** Verifications allowed to wait for a turn (default 256); beyond, 503. */
  maxWaitingHashes?: number;
}

/** A gate letting `limit` tasks run at once and `queue` wait; the rest are refused. */
function createGate(limit: number, queue: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async function run<T>(task: () => Promise<T>): Promise<T> {
    if (running >= limit) {
      if (waiting.length >= queue) {
        throw new UnavailableError('Too many authentication attempts at once; retry later');
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
    running++;
    try {
      return await task();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

/** An authenticator over the principals in `store`. */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const { store, clock } = options;
  const recheckMs = options.recheckMs ?? 5_000;
  const cache = createVerificationCache({ maxEntries: options.cacheEntries ?? 10_000 });
  const gate = createGate(options.maxConcurrentHashes ?? 2, options.maxWaitingHashes ?? 256);
  const listeners = new Set<(name: string) => void>();
  // Bumped by every revocation: a verification that was running meanwhile is not cached.
  let revocations = 0;

  async function verify(header: string | undefined): Promise<Principal> {
    const credentials = parseAuthorization(header);
    if (credentials === undefined || header === undefined) throw new UnauthenticatedError();
    const name = credentials.name ?? nameInSecret(credentials.secret) ?? BOOTSTRAP_PRINCIPAL;
    const generation = revocations;
    const stored = await store.principals.get(name);
    // An unknown name costs the same scrypt as a known one: timing does not tell names apart.
    const matches = await gate(() =>
      verifySecret(credentials.secret, stored?.secretHash ?? DECOY_HASH),
    );
    if (!stored || !matches) throw new UnauthenticatedError();
    const principal = { name: stored.name, grants: stored.grants };
    if (generation === revocations) {
      cache.set(header, {
        principal,
        secretHash: stored.secretHash,
        checkAfter: clock.now() + recheckMs,
      });
    }
    return principal;
  }

  async function recheck(header: string, entry: CachedVerification): Promise<Principal> {
    const generation = revocations;
    let stored;
    try {
      stored = await store.principals.get(entry.principal.name);
    } catch (error) {
      // Unconfirmed: the next request verifies in full (and fails while the store does).
      cache.dropPrincipal(entry.principal.name);
      throw error;
    }
    if (!stored || stored.secretHash !== entry.secretHash) {
      cache.dropPrincipal(entry.principal.name);
      throw new UnauthenticatedError();
    }
    const principal = { name: stored.name, grants: stored.grants };
    if (generation === revocations) {
      cache.set(header, { ...entry, principal, checkAfter: clock.now() + recheckMs });
    }
    return principal;
  }

  return {
    authenticate(header) {
      if (header === undefined) throw new UnauthenticatedError();
      const entry = cache.get(header);
      if (entry === undefined) return verify(header);
      if (clock.now() < entry.checkAfter) return entry.principal;
      // One re-check at a time: the requests that arrive while it runs use the verification as
      // it stands (under load, every request past `checkAfter` started its own store read).
      entry.checkAfter = Number.POSITIVE_INFINITY;
      return recheck(header, entry);
    },
    revoke(name) {
      revocations++;
      cache.dropPrincipal(name);
      for (const listener of listeners) listener(name);
    },
    onRevoke(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
