// The applier, the one writer of the leader's state, on real stores (PGlite and Postgres):
// intents apply in submission order with a revision check, are stored before memory changes
// and before their events, share one write when submitted together, and a failure is the
// failing intent's own.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Deployment, Instance } from '../src/domain/index.js';
import { silentLogger, systemClock } from '../src/lib/index.js';
import { createApplier } from '../src/master/applier/index.js';
import { createEventHub } from '../src/master/event-hub.js';
import type { Applier, EventInput } from '../src/master/applier/index.js';
import { makeApp, makeInstance } from '../src/scheduler/fixtures.js';
import type { Store } from '../src/store/index.js';
import { describeOnEveryStore, type OpenStore } from './support/every-store.js';
import { createEventHubDouble } from './support/api-doubles.js';

const V1 = '2026-02-01T00:00:00.000Z';
const V2 = '2026-02-02T00:00:00.000Z';

function deployment(id: string, appId: string, createdAt = V1): Deployment {
  return {
    id,
    version: V1,
    affectedApps: [appId],
    steps: [
      { actions: [{ action: 'StartApplication', app: appId }] },
      { actions: [{ action: 'ScaleApplication', app: appId }] },
    ],
    currentStep: 0,
    original: [],
    target: [makeApp({ id: appId, version: V1 })],
    createdAt,
  };
}

/** The real store, counting the transactions and instance writes it is asked for. */
function counting(store: Store) {
  const counts = { transactions: 0 };
  const onInstanceWrite: ((instances: Instance[]) => void)[] = [];
  /** `db` (the store or a transaction of it) with its instance writes observed. */
  const observed = (db: Store): Store => ({
    ...db,
    instances: {
      ...db.instances,
      putMany: (list) => {
        for (const listener of onInstanceWrite) listener(list);
        return db.instances.putMany(list);
      },
    },
  });
  const wrapped: Store = {
    ...observed(store),
    transaction: (fn) => {
      counts.transactions++;
      return store.transaction((tx) => fn(observed(tx)));
    },
    writeTogether: (statements) => {
      counts.transactions++;
      return store.writeTogether(statements.map((statement) => (tx) => statement(observed(tx))));
    },
  };
  return { store: wrapped, counts, onInstanceWrite };
}

function describeApplier(name: string, open: OpenStore): void {
  describe(`applier: ${name}`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    let counted: ReturnType<typeof counting>;
    let applier: Applier;
    let emitted: EventInput[];
    /** What memory held of each event's instance when the event was emitted. */
    let seenAtEmit: (Instance | undefined)[];

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
        for (const i of await tx.instances.list()) await tx.instances.delete(i.instanceId);
      });
      counted = counting(store);
      emitted = [];
      seenAtEmit = [];
      const events = createEventHub({
        store: counted.store,
        clock: systemClock,
        logger: silentLogger(),
      });
      await events.subscribe((event) => {
        emitted.push(event);
        seenAtEmit.push(applier.instances.get(String(event.instanceId)));
      });
      applier = createApplier({ store: counted.store, events, logger: silentLogger() });
      await applier.load();
    });

    const revisionOf = (id: string) => applier.instances.revisionOf(id) ?? -1;

    it('stores an intent before memory shows it, and emits its events after both', async () => {
      const instance = makeInstance({ instanceId: 'app.instance-a' });
      let inMemoryAtWrite: Instance | undefined | null = null;
      counted.onInstanceWrite.push(
        () => (inMemoryAtWrite = applier.instances.get('app.instance-a')),
      );
      const submitting = applier.submit({
        source: 'evaluation',
        create: [instance],
        events: [{ eventType: 'instance_changed_event', instanceId: instance.instanceId }],
      });
      expect(applier.instances.get(instance.instanceId)).toBeUndefined();
      expect(await submitting).toMatchObject({ ok: true });
      expect(inMemoryAtWrite).toBeUndefined();
      expect(applier.instances.get(instance.instanceId)).toEqual(instance);
      expect(await store.instances.get(instance.instanceId)).toEqual(instance);
      expect(emitted.map((e) => e.eventType)).toEqual(['instance_changed_event']);
      expect(seenAtEmit).toEqual([instance]);
    });

    it('stores the events of an intent in the write of its state, and none of a failed one', async () => {
      const before = (await store.events.since(0, 100_000)).at(-1)?.id ?? 0;
      const instance = makeInstance({ instanceId: 'app.instance-e' });
      const bad = { ...deployment('d-bad', '/bad'), createdAt: 'not a time' };
      const [good, failed] = await Promise.allSettled([
        applier.submit({
          source: 'status',
          create: [instance],
          events: [{ eventType: 'status_update_event', instanceId: instance.instanceId }],
        }),
        applier.submit({
          source: 'orchestrator',
          startDeployments: [bad],
          events: [{ eventType: 'deployment_info', id: 'd-bad' }],
        }),
      ]);
      expect([good.status, failed.status]).toEqual(['fulfilled', 'rejected']);
      const stored = await store.events.since(before, 100);
      expect(stored.map((e) => [e.eventType, e.payload.instanceId])).toEqual([
        ['status_update_event', instance.instanceId],
      ]);
      // Subscribers got it with the id it was stored under.
      expect(emitted).toEqual([stored[0]?.payload]);
    });

    it('stores intents submitted together in one write, each answered', async () => {
      const ids = Array.from({ length: 20 }, (_, n) => `/group/app-${n}`);
      const results = await Promise.all([
        ...ids.map((id) =>
          applier.submit({
            source: 'orchestrator',
            apps: [makeApp({ id, version: V1 })],
            startDeployments: [deployment(`d-${id}`, id)],
          }),
        ),
        applier.submit({
          source: 'evaluation',
          create: [makeInstance({ instanceId: 'app.instance-g' })],
        }),
      ]);
      expect(results.every((r) => r.ok)).toBe(true);
      expect(counted.counts.transactions).toBe(1);
      expect((await store.apps.list()).map((a) => a.id)).toEqual([...ids].sort());
      expect(await store.deployments.list()).toHaveLength(20);
      expect(await store.instances.get('app.instance-g')).toBeDefined();
      expect([...applier.apps.apps().keys()].sort()).toEqual([...ids].sort());
    });

    it('refuses an update computed from a revision that moved: no update is lost', async () => {
      const instance = makeInstance({ instanceId: 'app.instance-r', condition: 'Staging' });
      await applier.submit({ source: 'evaluation', create: [instance] });
      const seen = revisionOf(instance.instanceId);
      // Two writers read the same revision: a status update and a stop decided by a pass.
      const [status, stop] = await Promise.all([
        applier.submit({
          source: 'status',
          update: [{ instance: { ...instance, condition: 'Running' }, revision: seen }],
        }),
        applier.submit({
          source: 'evaluation',
          update: [{ instance: { ...instance, goal: 'Decommissioned' }, revision: seen }],
        }),
      ]);
      expect(status).toMatchObject({ ok: true });
      expect(stop).toEqual({
        ok: false,
        conflicts: [expect.stringMatching(/app.instance-r is at revision \d+, not \d+/)],
      });
      expect(applier.instances.get(instance.instanceId)?.condition).toBe('Running');
      // The refused writer computes again over what it finds: both changes hold.
      await applier.update(() => {
        const current = applier.instances.get(instance.instanceId) as Instance;
        return {
          source: 'evaluation',
          update: [
            {
              instance: { ...current, goal: 'Decommissioned' },
              revision: revisionOf(current.instanceId),
            },
          ],
        };
      });
      expect(await store.instances.get(instance.instanceId)).toMatchObject({
        condition: 'Running',
        goal: 'Decommissioned',
      });
    });

    it('applies intents in the order they were submitted, and emits only what applied', async () => {
      await applier.submit({ source: 'orchestrator', startDeployments: [deployment('d-1', '/a')] });
      const seen = applier.apps.deploymentRevisionOf('d-1') ?? -1;
      const progressed = {
        deployment: { ...deployment('d-1', '/a'), currentStep: 2 },
        revision: seen,
      };
      const [cancel, late] = await Promise.all([
        applier.submit({
          source: 'orchestrator',
          removeDeployments: ['d-1'],
          events: [{ eventType: 'deployment_failed', id: 'd-1' }],
        }),
        // The loop's pass, a moment late: it must not bring the cancelled deployment back.
        applier.submit({
          source: 'evaluation',
          progress: [progressed],
          events: [{ eventType: 'deployment_info', id: 'd-1' }],
        }),
      ]);
      expect(cancel.ok).toBe(true);
      expect(late).toEqual({ ok: false, conflicts: ['deployment d-1 is gone'] });
      expect(applier.apps.deployments()).toEqual([]);
      expect(await store.deployments.list()).toEqual([]);
      expect(emitted.map((e) => e.eventType)).toEqual(['deployment_failed']);
    });

    it('refuses an intent computed for an app version a deploy replaced since', async () => {
      await applier.submit({ source: 'orchestrator', apps: [makeApp({ id: '/v', version: V1 })] });
      const [deploy, placement] = await Promise.all([
        applier.submit({ source: 'orchestrator', apps: [makeApp({ id: '/v', version: V2 })] }),
        applier.submit({
          source: 'evaluation',
          requireApps: [{ appId: '/v', version: V1 }],
          create: [makeInstance({ appId: '/v', instanceId: 'v.instance-1', appVersion: V1 })],
        }),
      ]);
      expect(deploy.ok).toBe(true);
      expect(placement).toEqual({
        ok: false,
        conflicts: [`app /v is at version ${V2}, not ${V1}`],
      });
      expect(applier.instances.byApp('/v')).toEqual([]);
    });

    it('fails only the intent that cannot be stored; the others of its write are stored', async () => {
      const bad = { ...deployment('d-bad', '/bad'), createdAt: 'not a time' };
      const results = await Promise.allSettled([
        applier.submit({ source: 'orchestrator', apps: [makeApp({ id: '/good-1', version: V1 })] }),
        applier.submit({
          source: 'orchestrator',
          apps: [makeApp({ id: '/bad', version: V1 })],
          startDeployments: [bad],
          events: [{ eventType: 'deployment_info', id: 'd-bad' }],
        }),
        applier.submit({ source: 'orchestrator', apps: [makeApp({ id: '/good-2', version: V1 })] }),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((await store.apps.list()).map((a) => a.id)).toEqual(['/good-1', '/good-2']);
      expect(applier.apps.get('/bad')).toBeUndefined();
      expect(applier.apps.get('/good-2')).toBeDefined();
      expect(emitted).toEqual([]);
    });

    it('keeps the last task failure with its app, in memory and in the store', async () => {
      await applier.submit({ source: 'orchestrator', apps: [makeApp({ id: '/f', version: V1 })] });
      const failure = {
        appId: '/f',
        host: 'h',
        message: 'boom',
        state: 'TASK_FAILED',
        taskId: 'f.instance-1._app.1',
        timestamp: V1,
        version: V1,
      };
      await applier.submit({ source: 'status', failures: [failure] });
      expect(await applier.apps.lastTaskFailure('/f')).toEqual(failure);
      expect(await store.apps.getLastTaskFailure('/f')).toEqual(failure);
      await applier.submit({ source: 'orchestrator', removeApps: ['/f'] });
      expect(await applier.apps.lastTaskFailure('/f')).toBeUndefined();
      expect(await store.apps.getLastTaskFailure('/f')).toBeUndefined();
    });

    it('is rebuilt from the store by a new leader; revisions read before never match after', async () => {
      await applier.submit({
        source: 'orchestrator',
        apps: [makeApp({ id: '/kept', version: V1 })],
        startDeployments: [deployment('d-kept', '/kept')],
        create: [makeInstance({ instanceId: 'kept.instance-1', appId: '/kept' })],
      });
      const before = revisionOf('kept.instance-1');
      const next = createApplier({
        store,
        events: createEventHubDouble(systemClock),
        logger: silentLogger(),
      });
      expect(() => next.apps.get('/kept')).toThrow(/before it was loaded/);
      await next.load();
      expect(next.apps.get('/kept')?.version).toBe(V1);
      expect(next.apps.deployments().map((d) => d.id)).toEqual(['d-kept']);
      expect(next.instances.byApp('/kept')).toHaveLength(1);
      await applier.load();
      expect(revisionOf('kept.instance-1')).not.toBe(before);
    });

    it('refuses every use once forgotten (leadership lost), until loaded again', async () => {
      await applier.submit({ source: 'orchestrator', apps: [makeApp({ id: '/a', version: V1 })] });
      applier.forget();
      expect(() => applier.apps.get('/a')).toThrow(/before it was loaded/);
      expect(applier.instances.all()).toEqual([]);
      await expect(applier.submit({ source: 'orchestrator', removeApps: ['/a'] })).rejects.toThrow(
        /before it was loaded/,
      );
      await applier.load();
      expect(applier.apps.get('/a')).toBeDefined();
    });
  });
}

await describeOnEveryStore(describeApplier);
