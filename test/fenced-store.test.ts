// Fencing on both stores: writes commit only while the writer holds the leader lease in its term;
// a writer whose lease passed to another master (a paused leader waking up) has every state
// write refused and nothing of it stored, while reads still answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './support/wait-for.js';
import { FencedError, createFencedStore, type Fence, type Store } from '../src/store/index.js';
import { describeOnEveryStore, type OpenStore } from './support/every-store.js';

await describeOnEveryStore((name: string, open: OpenStore) => {
  describe(`fenced writes on ${name}`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    beforeAll(async () => {
      ({ store, dispose } = await open());
    });
    afterAll(async () => dispose());

    it("commit in the writer's term and are refused, whole, once another master leads", async () => {
      // A lease that outlives the writes in term however slow the machine is.
      const taken = await store.leases.acquire({ name: 'leader', holder: 'a', ttlMs: 60_000 });
      let fence: Fence | undefined = { name: 'leader', holder: 'a', term: taken.term };
      const asA = createFencedStore(store, () => fence);
      await asA.events.append({ eventType: 'in_term', payload: {} });
      await asA.transaction(async (tx) => {
        await tx.events.append({ eventType: 'in_term_tx', payload: {} });
      });

      // A pauses past its lease (renewed to end at once); B takes over in a new term.
      await store.leases.acquire({ name: 'leader', holder: 'a', ttlMs: 1 });
      await waitFor(
        'the lease of a to expire',
        async () => (await store.leases.holder({ name: 'leader' })) === undefined,
        { timeoutMs: 5_000, maxIntervalMs: 20 },
      );
      expect(await store.leases.acquire({ name: 'leader', holder: 'b', ttlMs: 60_000 })).toEqual({
        holder: 'b',
        term: taken.term + 1,
      });
      await expect(
        asA.events.append({ eventType: 'after_waking', payload: {} }),
      ).rejects.toBeInstanceOf(FencedError);
      await expect(
        asA.transaction(async (tx) => {
          await tx.events.append({ eventType: 'after_waking_tx', payload: {} });
        }),
      ).rejects.toThrow('a no longer leads in term');
      await expect(asA.deployments.deleteMany(['x'])).rejects.toBeInstanceOf(FencedError);
      fence = undefined; // not leading at all
      await expect(asA.apps.delete('/x')).rejects.toThrow('This master does not lead');

      // Reads go through; only the writes made in term are stored.
      const types = (await asA.events.since(0, 100)).map((e) => e.eventType);
      expect(types).toEqual(['in_term', 'in_term_tx']);
      const asB = createFencedStore(store, () => ({
        name: 'leader',
        holder: 'b',
        term: taken.term + 1,
      }));
      await asB.events.append({ eventType: 'b_writes', payload: {} });
      expect((await store.events.since(0, 100)).map((e) => e.eventType)).toEqual([
        ...types,
        'b_writes',
      ]);
    });
  });
});
