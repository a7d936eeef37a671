// The state change feed warm standbys follow (store/state-change-repository.ts), on both drivers:
// a read without a cursor is everything; with one, only what was written or removed since, in
// one snapshot; a write still uncommitted at a read comes with the next; a cursor older than the
// trimmed removals reads everything again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeApp, makeInstance } from '../src/scheduler/fixtures.js';
import type { Store } from '../src/store/index.js';
import { describeOnEveryStore, type OpenStore } from './support/every-store.js';

const V1 = '2026-02-01T00:00:00.000Z';

function describeChanges(name: string, open: OpenStore): void {
  describe(`state changes: ${name}`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    beforeAll(async () => {
      ({ store, dispose } = await open());
    });
    afterAll(async () => {
      await dispose?.();
    });

    it('reads everything without a cursor, then only what changed since', async () => {
      await store.apps.putMany([makeApp({ id: '/a', version: V1 }), makeApp({ id: '/b' })]);
      await store.instances.put(makeInstance({ instanceId: 'a.1', appId: '/a' }));
      await store.rolePolicies.put({ role: 'web', weight: 2 });
      const first = await store.stateChanges.since();
      expect(first.isWhole).toBe(true);
      expect(first.apps.map((a) => a.id)).toEqual(['/a', '/b']);
      expect(first.instances.map((i) => i.instanceId)).toEqual(['a.1']);
      expect(first.roles).toEqual([{ role: 'web', weight: 2 }]);

      await store.apps.put(makeApp({ id: '/b', instances: 3 }));
      await store.apps.delete('/a');
      await store.instances.delete('a.1');
      await store.instances.put(makeInstance({ instanceId: 'b.1', appId: '/b' }));
      await store.rolePolicies.put({ role: 'web' });
      await store.agents.setDrain('agent-9', V1);
      const next = await store.stateChanges.since(first.cursor);
      expect(next.isWhole).toBe(false);
      expect(next.apps.map((a) => [a.id, a.instances])).toEqual([['/b', 3]]);
      expect(next.instances.map((i) => i.instanceId)).toEqual(['b.1']);
      expect(next.roles).toEqual([]);
      expect([...next.drains]).toEqual([['agent-9', V1]]);
      expect(next.deployments).toBeUndefined();
      expect(next.removed).toEqual({
        apps: ['/a'],
        instances: ['a.1'],
        deployments: [],
        roles: ['web'],
        drains: [],
      });
    });

    it('does not report a key removed and put back as removed', async () => {
      const before = await store.stateChanges.since();
      await store.apps.put(makeApp({ id: '/again' }));
      await store.apps.delete('/again');
      await store.apps.put(makeApp({ id: '/again', instances: 2 }));
      const after = await store.stateChanges.since(before.cursor);
      expect(after.removed.apps).not.toContain('/again');
      expect(after.apps.find((a) => a.id === '/again')?.instances).toBe(2);
    });

    it('reads everything again once the removals after its cursor were trimmed', async () => {
      const old = await store.stateChanges.since();
      await store.agents.setDrain('agent-9', null);
      expect((await store.stateChanges.since(old.cursor)).removed.drains).toEqual(['agent-9']);
      await store.stateChanges.trim(0);
      const again = await store.stateChanges.since(old.cursor);
      expect(again.isWhole).toBe(true);
      expect(again.drains.has('agent-9')).toBe(false);
      // A cursor taken after the trim reads changes again.
      const fresh = await store.stateChanges.since(again.cursor);
      expect(fresh.isWhole).toBe(false);
    });

    // Needs a second connection reading while a transaction is open: Postgres only (PGlite has
    // one connection, so no read can overlap a transaction there).
    if (name === 'Postgres')
      it('brings a write that was not committed at a read with the next read', async () => {
        const before = await store.stateChanges.since();
        let during: Awaited<ReturnType<Store['stateChanges']['since']>> | undefined;
        await store.transaction(async (tx) => {
          await tx.apps.put(makeApp({ id: '/late', version: V1 }));
          // Another connection reads while this transaction is open: it cannot see the app.
          during = await store.stateChanges.since(before.cursor);
        });
        expect(during?.apps.map((a) => a.id)).not.toContain('/late');
        const after = await store.stateChanges.since(during?.cursor);
        expect(after.apps.map((a) => a.id)).toContain('/late');
      });
  });
}

await describeOnEveryStore(describeChanges);
