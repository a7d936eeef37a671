// The authenticator's re-check on a real store: a verified header answers from memory until
// `recheckMs` passes, then the store is asked once (not once per waiting request) whether the
// principal still holds that secret; a principal deleted elsewhere (another master) or a store
// that fails ends the verification.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../src/api/index.js';
import { hashSecret } from '../src/api/auth/secret-hash.js';
import { newSecret } from '../src/api/auth/secret-format.js';
import { UnauthenticatedError } from '../src/domain/index.js';
import type { Principal } from '../src/domain/index.js';
import { createPgliteStore } from '../src/store/index.js';
import type { Store } from '../src/store/index.js';
import { fakeClock } from './support/api-doubles.js';

const RECHECK_MS = 5_000;
const GRANTS: Principal['grants'] = [{ path: '/team-a', actions: ['view'] }];

describe('authenticator re-check', () => {
  let store: Store;
  let storeReads: number;
  let clock: ReturnType<typeof fakeClock>;
  let header: string;

  beforeEach(async () => {
    store = await createPgliteStore({});
    const secret = newSecret('alice');
    await store.principals.create({
      name: 'alice',
      secretHash: await hashSecret(secret),
      grants: GRANTS,
    });
    header = `Bearer ${secret}`;
    clock = fakeClock();
    // Counts the real store's reads of principals (the store itself answers them).
    storeReads = 0;
    const get = store.principals.get.bind(store.principals);
    store.principals.get = (name) => {
      storeReads++;
      return get(name);
    };
  });
  afterEach(async () => {
    await store.close().catch(() => undefined);
  });

  const authenticatorOn = (s: Store) =>
    createAuthenticator({ store: s, clock, recheckMs: RECHECK_MS });

  it('answers a verified header from memory, without the store, until recheckMs passes', async () => {
    const authenticator = authenticatorOn(store);
    expect(await authenticator.authenticate(header)).toEqual({ name: 'alice', grants: GRANTS });
    const readsAfterVerify = storeReads;
    clock.advance(RECHECK_MS - 1);
    const again = authenticator.authenticate(header);
    expect(again).not.toBeInstanceOf(Promise);
    expect(again).toEqual({ name: 'alice', grants: GRANTS });
    expect(storeReads).toBe(readsAfterVerify);
  });

  it('asks the store once for many requests past recheckMs, answering them from memory', async () => {
    const authenticator = authenticatorOn(store);
    await authenticator.authenticate(header);
    const readsAfterVerify = storeReads;
    clock.advance(RECHECK_MS);
    const first = authenticator.authenticate(header);
    expect(first).toBeInstanceOf(Promise);
    const during = Array.from({ length: 50 }, () => authenticator.authenticate(header));
    for (const answer of during) expect(answer).toEqual({ name: 'alice', grants: GRANTS });
    expect(await first).toEqual({ name: 'alice', grants: GRANTS });
    expect(storeReads).toBe(readsAfterVerify + 1);
    // Confirmed: memory again for another period.
    expect(authenticator.authenticate(header)).not.toBeInstanceOf(Promise);
  });

  it('refuses a header once the re-check finds its principal deleted (as by another master)', async () => {
    const authenticator = authenticatorOn(store);
    await authenticator.authenticate(header);
    await store.principals.delete('alice');
    clock.advance(RECHECK_MS);
    await expect(authenticator.authenticate(header)).rejects.toBeInstanceOf(UnauthenticatedError);
    // Forgotten: the next request verifies in full and fails too.
    await expect(
      Promise.resolve().then(() => authenticator.authenticate(header)),
    ).rejects.toBeInstanceOf(UnauthenticatedError);
  });

  it('forgets the verification when the store fails during a re-check', async () => {
    const authenticator = authenticatorOn(store);
    await authenticator.authenticate(header);
    await store.close();
    clock.advance(RECHECK_MS);
    await expect(authenticator.authenticate(header)).rejects.toThrow();
    // Not served from memory while unconfirmed: the next request asks the store again.
    const readsBefore = storeReads;
    const next = authenticator.authenticate(header);
    expect(next).toBeInstanceOf(Promise);
    await expect(next).rejects.toThrow();
    expect(storeReads).toBe(readsBefore + 1);
  });
});
