// The leader's app cache on real stores (PGlite and Postgres): written through before it
// applies, group commit of concurrent changes, a failure per change, rebuilt from the store.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Deployment } from '../src/domain/index.js';
import { createAppCache } from '../src/master/app-cache.js';
import type { AppCache } from '../src/master/app-cache.js';
import { makeApp } from '../src/scheduler/fixtures.js';
import type { Store } from '../src/store/index.js';
import { describeOnEveryStore, type OpenStore } from './support/every-store.js';

const V1 = '2026-02-01T00:00:00.000Z';

function deployment(id: string, appId: string, createdAt = V1): Deployment {
  return {
    id,
    version: V1,
    affectedApps: [appId],
    steps: [{ actions: [{ action: 'StartApplication', app: appId }] }],
    currentStep: 0,
    original: [],
    target: [makeApp({ id: appId, version: V1 })],
    createdAt,
  };
}

/** The real store, counting the transactions it is asked for. */
function countingTransactions(store: Store): { store: Store; transactions: () => number } {
  let count = 0;
  return {
    store: {
      ...store,
      transaction: (fn) => {
        count++;
        return store.transaction(fn);
      },
    },
    transactions: () => count,
  };
}

function describeAppCache(name: string, open: OpenStore): void {
  describe(`app cache: ${name}`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    let counted: ReturnType<typeof countingTransactions>;
    let cache: AppCache;

    beforeAll(async () => {
      ({ store, dispose } = await open());
    });
    afterAll(async () => {
      await dispose?.();
    });
    beforeEach(async () => {
      await store.transaction(async (tx) => {
        for (const a of await tx.apps.list()) await tx.apps.delete(a.id);
        await tx.deployments.deleteMany((await tx.deployments.list()).map((d) => d.id));
      });
      counted = countingTransactions(store);
      cache = createAppCache({ store: counted.store });
      await cache.load();
    });

    it('stores a change before it resolves, then shows it', async () => {
      const committing = cache.commit({
        apps: [makeApp({ id: '/a', version: V1 })],
        deployments: [deployment('d-a', '/a')],
      });
      expect(cache.get('/a')).toBeUndefined();
      await committing;
      expect(cache.get('/a')?.version).toBe(V1);
      expect(cache.deployment('d-a')?.affectedApps).toEqual(['/a']);
      expect((await store.apps.get('/a'))?.version).toBe(V1);
      expect(await store.apps.versions('/a')).toEqual([V1]);
      expect((await store.deployments.get('d-a'))?.id).toBe('d-a');
    });

    it('stores changes committed together in one transaction, each answered', async () => {
      const ids = Array.from({ length: 20 }, (_, n) => `/group/app-${n}`);
      await Promise.all(
        ids.map((id) =>
          cache.commit({
            apps: [makeApp({ id, version: V1 })],
            deployments: [deployment(`d-${id}`, id)],
          }),
        ),
      );
      expect(counted.transactions()).toBe(1);
      expect((await store.apps.list()).map((a) => a.id)).toEqual([...ids].sort());
      expect(await store.deployments.list()).toHaveLength(20);
      expect([...cache.apps().keys()].sort()).toEqual([...ids].sort());
    });

    it('applies changes of one key in commit order, across batches', async () => {
      await cache.commit({ deployments: [deployment('d-1', '/a')] });
      await Promise.all([
        cache.commit({ deployments: [{ ...deployment('d-1', '/a'), currentStep: 1 }] }),
        cache.commit({ removeDeployments: ['d-1'] }),
        cache.commit({ deployments: [deployment('d-2', '/b')] }),
      ]);
      expect(cache.deployments().map((d) => d.id)).toEqual(['d-2']);
      expect((await store.deployments.list()).map((d) => d.id)).toEqual(['d-2']);
    });

    it('never brings back a cancelled deployment with progress committed after the cancel', async () => {
      await cache.commit({ deployments: [deployment('d-1', '/a'), deployment('d-2', '/b')] });
      await Promise.all([
        cache.commit({ removeDeployments: ['d-1'] }), // a cancel
        cache.commit({
          progress: [
            { ...deployment('d-1', '/a'), currentStep: 2 }, // the loop's pass, a moment late
            { ...deployment('d-2', '/b'), currentStep: 2 },
          ],
        }),
      ]);
      expect(cache.deployments().map((d) => [d.id, d.currentStep])).toEqual([['d-2', 2]]);
      const stored = await store.deployments.list();
      expect(stored.map((d) => [d.id, d.currentStep])).toEqual([['d-2', 2]]);
    });

    it('fails only the change that cannot be stored; the others of its batch are stored', async () => {
      const bad = { ...deployment('d-bad', '/bad'), createdAt: 'not a time' };
      const results = await Promise.allSettled([
        cache.commit({ apps: [makeApp({ id: '/good-1', version: V1 })] }),
        cache.commit({ apps: [makeApp({ id: '/bad', version: V1 })], deployments: [bad] }),
        cache.commit({ apps: [makeApp({ id: '/good-2', version: V1 })] }),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((await store.apps.list()).map((a) => a.id)).toEqual(['/good-1', '/good-2']);
      expect(cache.get('/bad')).toBeUndefined();
      expect(cache.get('/good-2')).toBeDefined();
    });

    it('is rebuilt from the store by a new leader', async () => {
      await cache.commit({
        apps: [makeApp({ id: '/kept', version: V1 })],
        deployments: [deployment('d-kept', '/kept')],
      });
      const next = createAppCache({ store });
      expect(() => next.get('/kept')).toThrow(/before it was loaded/);
      await next.load();
      expect(next.get('/kept')?.version).toBe(V1);
      expect(next.deployments().map((d) => d.id)).toEqual(['d-kept']);
    });

    it('refuses every use once forgotten (leadership lost), until loaded again', async () => {
      await cache.commit({ apps: [makeApp({ id: '/a', version: V1 })] });
      cache.forget();
      expect(() => cache.get('/a')).toThrow(/before it was loaded/);
      expect(() => cache.commit({ removeApps: ['/a'] })).toThrow(/before it was loaded/);
      await cache.load();
      expect(cache.get('/a')).toBeDefined();
    });
  });
}

await describeOnEveryStore(describeAppCache);
