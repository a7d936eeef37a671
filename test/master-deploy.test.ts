// Concurrent writes through a real master (PGlite and Postgres): every accepted POST /v2/apps is
// stored before its 201, gets its own deployment and events; racing creations of one id get a
// single 201; a restarted master finds what was accepted.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryBus } from '../src/bus/index.js';
import { silentLogger, systemClock } from '../src/lib/index.js';
import { startMaster } from '../src/cli/start-master.js';
import type { RunningMaster } from '../src/cli/start-master.js';
import type { Store } from '../src/store/index.js';
import { describeOnEveryStore, type OpenStore } from './support/every-store.js';
import { waitFor } from './support/wait-for.js';

function start(store: Store): Promise<RunningMaster> {
  return startMaster({
    store,
    bus: createMemoryBus(),
    clock: systemClock,
    logger: silentLogger(),
    masterId: 'deploy-test',
    port: 0,
    host: '127.0.0.1',
    publicUrl: 'http://127.0.0.1:8080',
    version: '0.0.0',
    agentTimeoutMs: 60_000,
  });
}

function post(port: number, id: string, extra: object = {}): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}/v2/apps`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id, cmd: 'hello.wasm', cpus: 0.01, mem: 16, instances: 0, ...extra }),
  });
}

function describeDeploys(name: string, open: OpenStore): void {
  describe(`concurrent deploys: ${name}`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    let master: RunningMaster | undefined;

    // One store per describe (PGlite is slow to open); the tests use ids of their own.
    beforeAll(async () => {
      ({ store, dispose } = await open());
    });
    afterAll(async () => {
      await dispose?.();
    });
    beforeEach(async () => {
      master = await start(store);
    });
    afterEach(async () => {
      await master?.stop();
    });

    it('stores each accepted app before answering, with its own deployment and events', async () => {
      const { port } = master as RunningMaster;
      const ids = Array.from({ length: 40 }, (_, n) => `/load/app-${n}`);
      const answers = await Promise.all(
        ids.map(async (id) => {
          const response = await post(port, id);
          // Durable at the answer: the store (not the master's memory) already holds it.
          const stored = await store.apps.get(id);
          return {
            status: response.status,
            deploymentId: response.headers.get('Marathon-Deployment-Id'),
            stored,
          };
        }),
      );
      expect(answers.map((a) => a.status)).toEqual(ids.map(() => 201));
      expect(answers.every((a) => a.stored !== undefined)).toBe(true);
      const deploymentIds = answers.map((a) => a.deploymentId);
      expect(new Set(deploymentIds).size).toBe(ids.length);
      // Each app's api_post_event is stored with it (durable at the answer), after the
      // deployment_info of its deployment, as Marathon posts it once the deployment started.
      const atAnswer = await store.events.since(0, 10_000);
      const idOf = (type: string, has: (payload: Record<string, unknown>) => boolean) =>
        atAnswer.find((e) => e.eventType === type && has(e.payload))?.id ?? Number.NaN;
      for (const [n, id] of ids.entries()) {
        const posted = idOf('api_post_event', (p) => (p.appDefinition as { id: string }).id === id);
        const started = idOf('deployment_info', (p) => {
          return (p.plan as { id: string }).id === deploymentIds[n];
        });
        expect(posted).toBeGreaterThan(started);
      }

      await waitFor(
        'every deployment done',
        async () => (await store.deployments.list()).length === 0,
      );
      await master?.stop();
      master = undefined;
      const events = await store.events.since(0, 10_000);
      const posted = events
        .filter((e) => e.eventType === 'api_post_event')
        .map((e) => (e.payload.appDefinition as { id: string }).id)
        .filter((id) => id.startsWith('/load/'));
      expect(posted.sort()).toEqual([...ids].sort());
      const succeeded = events
        .filter((e) => e.eventType === 'deployment_success')
        .map((e) => e.payload.id);
      expect(new Set(succeeded)).toEqual(new Set(deploymentIds));
    });

    it('does the steps with nothing to wait for in the write that starts the deployment', async () => {
      const { port } = master as RunningMaster;
      const eventsOf = async (deploymentId: string | null) =>
        (await store.events.since(0, 10_000))
          .filter(
            (e) =>
              e.payload.id === deploymentId ||
              (e.payload.plan as { id?: string } | undefined)?.id === deploymentId,
          )
          .map((e) => e.eventType);
      const idle = async (response: Response) => {
        const deploymentId = response.headers.get('Marathon-Deployment-Id');
        // At the answer, before any pass: no deployment left, its whole story stored.
        expect((await store.deployments.list()).map((d) => d.id)).not.toContain(deploymentId);
        return eventsOf(deploymentId);
      };
      const created = await post(port, '/idle/app');
      expect(created.status).toBe(201);
      expect(await idle(created)).toEqual([
        'deployment_info',
        'deployment_step_success',
        'deployment_step_success',
        'deployment_success',
      ]);
      const removed = await fetch(`http://127.0.0.1:${port}/v2/apps/idle/app`, {
        method: 'DELETE',
      });
      expect(removed.status).toBe(200);
      expect(await idle(removed)).toEqual([
        'deployment_info',
        'deployment_step_success',
        'deployment_success',
      ]);
      const terminated = (await store.events.since(0, 10_000)).filter(
        (e) => e.eventType === 'app_terminated_event' && e.payload.appId === '/idle/app',
      );
      expect(terminated).toHaveLength(1);

      // An instance to place (this master has no agents): the deployment waits for it, past
      // its first step (StartApplication, done once the app is stored) from the start.
      const busy = await post(port, '/busy/app', { instances: 1 });
      const busyId = busy.headers.get('Marathon-Deployment-Id');
      const stored = (await store.deployments.list()).find((d) => d.id === busyId);
      expect(stored?.currentStep).toBe(2);
      expect(await eventsOf(busyId)).toEqual([
        'deployment_info',
        'deployment_step_success',
        'deployment_info',
      ]);
      await fetch(`http://127.0.0.1:${port}/v2/apps/busy/app?force=true`, { method: 'DELETE' });
      await waitFor('the busy app gone', async () => (await store.deployments.list()).length === 0);
    });

    it('answers one of many racing creations of one id with 201, the others with 409', async () => {
      const { port } = master as RunningMaster;
      const responses = await Promise.all(
        Array.from({ length: 12 }, () => post(port, '/race/app')),
      );
      const statuses = responses.map((r) => r.status).sort();
      expect(statuses).toEqual([201, ...Array.from({ length: 11 }, () => 409)]);
      const conflict = responses.find((r) => r.status === 409);
      expect(await conflict?.json()).toEqual({
        message: 'An app with id [/race/app] already exists.',
      });
      expect(await store.apps.versions('/race/app')).toHaveLength(1);
    });

    it("gives racing creations distinct service ports, and a removed app's ports back", async () => {
      const { port } = master as RunningMaster;
      const ids = Array.from({ length: 24 }, (_, n) => `/ports-race/app-${n}`);
      const portDefinitions = [{ port: 0 }, { port: 0 }];
      const answers = await Promise.all(ids.map((id) => post(port, id, { portDefinitions })));
      expect(answers.map((a) => a.status)).toEqual(ids.map(() => 201));
      const held = async (id: string) =>
        ((await store.apps.get(id))?.portDefinitions ?? []).map((d) => d.port);
      const all = (await Promise.all(ids.map(held))).flat();
      expect(all).toHaveLength(48);
      expect(new Set(all).size).toBe(48);
      expect(all.every((p) => p >= 10_000 && p <= 20_000)).toBe(true);

      // The lowest port is free again once its app is gone, and the next app gets it.
      const lowest = Math.min(...all);
      const owner = ids[Math.floor(all.indexOf(lowest) / 2)] as string;
      const removed = await fetch(`http://127.0.0.1:${port}/v2/apps${owner}`, { method: 'DELETE' });
      expect(removed.status).toBe(200);
      expect(
        (await post(port, '/ports-race/next', { portDefinitions: [{ port: 0 }] })).status,
      ).toBe(201);
      expect(await held('/ports-race/next')).toEqual([lowest]);
    });

    it('keeps accepted apps for the next master, which refuses to create them again', async () => {
      const { port } = master as RunningMaster;
      expect((await post(port, '/kept/app')).status).toBe(201);
      await master?.stop();
      master = await start(store);
      const again = await post(master.port, '/kept/app');
      expect(again.status).toBe(409);
      const read = await fetch(`http://127.0.0.1:${master.port}/v2/apps/kept/app`);
      expect(read.status).toBe(200);
    });
  });
}

await describeOnEveryStore(describeDeploys);
