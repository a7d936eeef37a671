// The master's loops on a real store (PGlite) and the in-memory bus, with a clock the test
// moves: the evaluation loop, the orchestrator and agent liveness, each writing only through
// the applier. Tests wait for conditions (`waitFor`), never for time.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Bus, OfferMessage } from '../src/bus/index.js';
import { createMemoryBus, topics } from '../src/bus/index.js';
import type { AppDefinition, Instance } from '../src/domain/index.js';
import { AppLockedError, ConflictError, currentTaskId } from '../src/domain/index.js';
import { silentLogger } from '../src/lib/index.js';
import { createAgentBook } from '../src/master/agent-book.js';
import { createAgentCommands } from '../src/master/agent-commands.js';
import { createAgentLiveness } from '../src/master/agent-liveness.js';
import type { AgentLiveness } from '../src/master/agent-liveness.js';
import { createApplier } from '../src/master/applier/index.js';
import type { Applier } from '../src/master/applier/index.js';
import { createEvaluationLoop, planPass } from '../src/master/evaluation/index.js';
import type { EvaluationLoop, PassSnapshot } from '../src/master/evaluation/index.js';
import { takeSnapshot } from '../src/master/evaluation/snapshot.js';
import { createEventHub } from '../src/master/event-hub.js';
import { createLaunchQueue } from '../src/master/launch-queue.js';
import { createQueueView } from '../src/master/launch-queue-view.js';
import { createOrchestrator } from '../src/master/orchestrator.js';
import type { Orchestrator } from '../src/master/services.js';
import { createStatusHandler } from '../src/master/status-handler.js';
import type { StatusHandler } from '../src/master/status-handler.js';
import { createTaskMetrics } from '../src/master/task-metrics.js';
import { makeApp } from '../src/scheduler/fixtures.js';
import { createReadinessChecker } from '../src/master/readiness/readiness-checker.js';
import type { ReadinessChecker } from '../src/master/readiness/readiness-checker.js';
import { createPgliteStore, type Store } from '../src/store/index.js';
import { fakeClock } from './support/api-doubles.js';
import { waitFor } from './support/cluster.js';

const AGENT_TIMEOUT_MS = 5_000;
type Wanted = Omit<AppDefinition, 'version' | 'versionInfo'>;

function wanted(id: string, extra: Partial<AppDefinition> = {}): Wanted {
  const { version: _v, versionInfo: _vi, ...app } = makeApp({ id, cpus: 0.1, mem: 16, ...extra });
  return app;
}

function offer(
  agentId: string,
  clock: { now(): number },
  running: string[] = [],
  where: { hostname?: string; ports?: [number, number][] } = {},
): OfferMessage {
  const total = {
    cpus: 4,
    memMiB: 1024,
    diskMiB: 1024,
    ports: where.ports ?? ([[31000, 31099]] as [number, number][]),
  };
  return {
    type: 'offer',
    agentId,
    hostname: where.hostname ?? `${agentId}.test`,
    attributes: {},
    capabilities: ['wasm'],
    total,
    free: total,
    runningTaskIds: running,
    sentAt: clock.now(),
    startedAt: clock.now() - 60_000,
  };
}

describe('master loops', () => {
  let store: Store;
  let bus: Bus;
  let clock: ReturnType<typeof fakeClock>;
  let applier: Applier;
  let loop: EvaluationLoop;
  let orchestrator: Orchestrator;
  let liveness: AgentLiveness;
  let statuses: StatusHandler;
  let readiness: ReadinessChecker;
  let events: ReturnType<typeof createEventHub>;
  let seeds: string[];
  let passCostMs = 0;
  let passesEnded = 0;
  let snapshots: PassSnapshot[];
  let fatal: unknown[];
  let statusSeq = 0;

  beforeAll(async () => {
    store = await createPgliteStore();
  });
  afterAll(async () => {
    await store.close();
  });

  beforeEach(async () => {
    await loop?.stop();
    await store.transaction(async (tx) => {
      for (const a of await tx.apps.list()) await tx.apps.delete(a.id);
      await tx.deployments.deleteMany((await tx.deployments.list()).map((d) => d.id));
      for (const i of await tx.instances.list()) await tx.instances.delete(i.instanceId);
      for (const a of await tx.agents.list()) await tx.agents.delete(a.agentId);
    });
    await store.events.trim(0);
    const logger = silentLogger();
    clock = fakeClock();
    bus = createMemoryBus();
    events = createEventHub({ store, clock, logger });
    applier = createApplier({ store, events, logger });
    await applier.load();
    const agents = createAgentBook({ store, clock, logger, timeoutMs: AGENT_TIMEOUT_MS });
    const launchQueue = createLaunchQueue({ clock });
    const commands = createAgentCommands({ bus });
    seeds = [];
    passCostMs = 0;
    passesEnded = 0;
    snapshots = [];
    fatal = [];
    loop = createEvaluationLoop({
      applier,
      agents,
      commands,
      launchQueue,
      queueView: createQueueView({ launchQueue }),
      logger,
      clock,
      // The timer never fires in a test: kicks drive the passes.
      intervalMs: 3_600_000,
      // The pace reads the fake clock, and a pass lasts `passCostMs` on it.
      elapsedMs: () => clock.now(),
      observePass: () => passesEnded++,
      seed: () => {
        clock.advance(passCostMs);
        const seed = `seed-${seeds.length}`;
        seeds.push(seed);
        // Taken as the pass takes it (same turn, before any await): the replay's input.
        snapshots.push(
          takeSnapshot({ applier, agents, launchQueue }, { scope: 'all', now: clock.now(), seed }),
        );
        return seed;
      },
      onFatal: (error) => fatal.push(error),
    });
    const onChange = (appIds?: string[]) => loop.kick(appIds);
    orchestrator = createOrchestrator({
      applier,
      commands,
      launchQueue,
      clock,
      logger,
      onChange,
      passAlong: (pending) => loop.passAlong(pending),
    });
    liveness = createAgentLiveness({ applier, agents, commands, clock, logger, onChange });
    readiness = createReadinessChecker({ applier, clock, logger, onChange });
    statuses = createStatusHandler({
      applier,
      launchQueue,
      commands,
      metrics: createTaskMetrics(),
      clock,
      logger,
      onChange,
    });
  });

  const instancesOf = (appId: string) => applier.instances.byApp(appId);
  const commandsTo = async (agentId: string) =>
    (await bus.read<{ type: string; taskId: string }>(topics.commands(agentId))).map(
      (e) => e.message,
    );
  const report = (instance: Instance, state: string) =>
    statuses.handle({
      type: 'status',
      agentId: instance.agentId as string,
      taskId: currentTaskId(instance),
      state: state as 'TASK_RUNNING',
      seq: ++statusSeq,
      at: clock.now(),
    });
  const eventTypes = async () => {
    await events.flush();
    return (await store.events.since(0, 10_000)).map((e) => e.eventType);
  };

  describe('evaluation loop', () => {
    it('stores placements before it sends their launches, and finishes the deployment once they run', async () => {
      await liveness.onOffer(offer('agent-a', clock));
      loop.start();
      const { deploymentId } = await orchestrator.deploy(
        { apps: [wanted('/web', { instances: 3 })], isCreation: true },
        { force: false },
      );
      const placed = await waitFor('three launches', async () => {
        const launched = (await commandsTo('agent-a')).filter((c) => c.type === 'launch');
        return launched.length === 3 ? launched : undefined;
      });
      // Each launch sent names an instance the store already holds as placed.
      for (const launch of placed) {
        const stored = (await store.instances.list()).find(
          (i) => currentTaskId(i) === launch.taskId,
        );
        expect(stored).toMatchObject({ condition: 'Provisioned', agentId: 'agent-a' });
      }
      for (const instance of instancesOf('/web')) await report(instance, 'TASK_RUNNING');
      await waitFor(
        'the deployment to finish',
        async () => applier.apps.deployments().length === 0,
      );
      expect(await store.deployments.get(deploymentId)).toBeUndefined();
      expect(await eventTypes()).toEqual(
        expect.arrayContaining([
          'deployment_info',
          'deployment_step_success',
          'deployment_success',
        ]),
      );
      expect(fatal).toEqual([]);
    });

    it("places a deploy's new instances in the write that stores the deploy, in one pass", async () => {
      await liveness.onOffer(offer('agent-a', clock));
      loop.start();
      await waitFor('the first pass to end', async () => passesEnded === 1);
      const { deploymentId } = await orchestrator.deploy(
        { apps: [wanted('/along', { instances: 2 })], isCreation: true },
        { force: false },
      );
      // At the answer the store holds the placements, with their events after the deployment's.
      const stored = (await store.instances.list()).filter((i) => i.appId === '/along');
      expect(stored.map((i) => [i.condition, i.agentId])).toEqual([
        ['Provisioned', 'agent-a'],
        ['Provisioned', 'agent-a'],
      ]);
      const types = (await store.events.since(0, 10_000)).map((e) => e.eventType);
      expect(types).toEqual([
        'deployment_info',
        'deployment_step_success',
        'deployment_info',
        'status_update_event',
        'instance_changed_event',
        'status_update_event',
        'instance_changed_event',
      ]);
      await waitFor('both launches', async () => {
        const launched = (await commandsTo('agent-a')).filter((c) => c.type === 'launch');
        return launched.length === 2;
      });
      await waitFor('the pass to end', async () => passesEnded === 2);
      // That pass placed them; the deploy asked for no other.
      expect(seeds).toHaveLength(2);
      expect(applier.apps.deployments().map((d) => d.id)).toEqual([deploymentId]);
      expect(fatal).toEqual([]);
    });

    it('replays a pass from its seed and snapshot to the placements it stored', async () => {
      for (const id of ['agent-a', 'agent-b', 'agent-c']) await liveness.onOffer(offer(id, clock));
      await orchestrator.deploy(
        { apps: [wanted('/spread', { instances: 7, constraints: [['hostname', 'GROUP_BY']] })] },
        { force: false },
      );
      await loop.runOnce();
      const stored = new Map(instancesOf('/spread').map((i) => [i.instanceId, i.agentId]));
      expect(stored.size).toBe(7);
      const replayed = planPass(structuredClone(snapshots.at(-1) as PassSnapshot));
      expect(new Map(replayed.placement.placements.map((p) => [p.instanceId, p.agentId]))).toEqual(
        stored,
      );
    });

    it('paces passes asked for by news of tasks, and runs one asked for now at once', async () => {
      loop.start();
      await waitFor('the first pass to end', async () => passesEnded === 1);
      passCostMs = 3_600_000; // passes now take an hour on the loop's clock
      loop.kick(['/web']);
      await waitFor('the hour-long pass to end', async () => passesEnded === 2);
      // Right after an hour-long pass, news of a task waits for nine idle hours: no pass starts.
      loop.kick(['/web'], { isPaced: true });
      for (let turn = 0; turn < 20; turn++) await new Promise((r) => setImmediate(r));
      expect(seeds).toHaveLength(2);
      // A kick now ends the wait: one pass, for both.
      loop.kick(['/db']);
      await waitFor('the pass asked for now to end', async () => passesEnded === 3);
      expect(seeds).toHaveLength(3);
      // Once the loop has idled nine times as long as its last pass, news starts one at once.
      passCostMs = 0;
      clock.advance(9 * 3_600_000);
      loop.kick(['/web'], { isPaced: true });
      await waitFor('the paced pass', async () => passesEnded === 4);
    });

    it("paces the timer's passes as it paces news of tasks", async () => {
      // Only the interval is fake: ticks fire when the test says, the rest runs as it does.
      vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
      try {
        loop.start();
        await waitFor('the first pass to end', async () => passesEnded === 1);
        // After a quick pass, a tick starts the next at once.
        vi.advanceTimersByTime(3_600_000);
        await waitFor("the tick's pass to end", async () => passesEnded === 2);
        passCostMs = 3_600_000;
        loop.kick(['/web']);
        await waitFor('the hour-long pass to end', async () => passesEnded === 3);
        // After an hour-long one, three ticks start none: the loop waits nine idle hours.
        vi.advanceTimersByTime(3 * 3_600_000);
        for (let turn = 0; turn < 20; turn++) await new Promise((r) => setImmediate(r));
        expect(seeds).toHaveLength(3);
        loop.kick(['/db']);
        await waitFor('the pass asked for now to end', async () => passesEnded === 4);
      } finally {
        await loop.stop();
        vi.useRealTimers();
      }
    });

    it('relaunches an ended instance with its next incarnation', async () => {
      await liveness.onOffer(offer('agent-a', clock));
      await orchestrator.deploy({ apps: [wanted('/once', { instances: 1 })] }, { force: false });
      await loop.runOnce();
      const [first] = instancesOf('/once');
      await report(first as Instance, 'TASK_KILLED');
      await loop.runOnce();
      expect(instancesOf('/once')).toEqual([
        expect.objectContaining({
          instanceId: first?.instanceId,
          incarnation: 2,
          condition: 'Provisioned',
        }),
      ]);
    });
  });

  describe('orchestrator', () => {
    it('answers one of two racing creations of an app, the other with a conflict', async () => {
      const results = await Promise.allSettled([
        orchestrator.deploy({ apps: [wanted('/race')], isCreation: true }, { force: false }),
        orchestrator.deploy({ apps: [wanted('/race')], isCreation: true }, { force: false }),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(refused.reason).toBeInstanceOf(ConflictError);
      expect(await store.apps.versions('/race')).toHaveLength(1);
    });

    it('refuses to change an app in a running deployment unless forced, which cancels it', async () => {
      const first = await orchestrator.deploy(
        { apps: [wanted('/locked', { instances: 2 })] },
        { force: false },
      );
      await expect(
        orchestrator.deploy({ apps: [wanted('/locked', { instances: 3 })] }, { force: false }),
      ).rejects.toBeInstanceOf(AppLockedError);
      const second = await orchestrator.deploy(
        { apps: [wanted('/locked', { instances: 3 })] },
        { force: true },
      );
      expect(applier.apps.deployments().map((d) => d.id)).toEqual([second.deploymentId]);
      expect(await store.deployments.get(first.deploymentId)).toBeUndefined();
      expect(await eventTypes()).toContain('deployment_failed');
    });

    it('kills a task with wipe: decommissioned at once, forgotten once it ended', async () => {
      await liveness.onOffer(offer('agent-a', clock));
      await orchestrator.deploy({ apps: [wanted('/wipe', { instances: 1 })] }, { force: false });
      await loop.runOnce();
      const [instance] = instancesOf('/wipe') as [Instance];
      await orchestrator.killTasks([currentTaskId(instance)], {
        scale: false,
        wipe: true,
        force: false,
      });
      expect(applier.instances.get(instance.instanceId)?.goal).toBe('Decommissioned');
      expect(await commandsTo('agent-a')).toContainEqual({
        type: 'kill',
        taskId: currentTaskId(instance),
      });
      await report(instance, 'TASK_KILLED');
      expect(applier.instances.get(instance.instanceId)).toBeUndefined();
      expect(await store.instances.get(instance.instanceId)).toBeUndefined();
    });

    it('rolls a cancelled deployment back to the original apps', async () => {
      await orchestrator.deploy({ apps: [wanted('/roll', { instances: 0 })] }, { force: false });
      await loop.runOnce();
      expect(applier.apps.deployments()).toEqual([]);
      const change = await orchestrator.deploy(
        { apps: [wanted('/roll', { instances: 4 })] },
        { force: false },
      );
      const rollback = await orchestrator.cancelDeployment(change.deploymentId, { force: false });
      expect(rollback).toBeDefined();
      expect(applier.apps.get('/roll')?.instances).toBe(0);
      expect(applier.apps.deployments().map((d) => d.id)).toEqual([rollback?.deploymentId]);
    });
  });

  describe("Marathon's events", () => {
    const payloads = async (eventType: string) => {
      await events.flush();
      return (await store.events.since(0, 10_000))
        .filter((e) => e.eventType === eventType)
        .map((e) => e.payload as Record<string, any>);
    };

    it('carries the plan with the root group before and after in deployment events', async () => {
      await orchestrator.deploy({ apps: [wanted('/kept', { instances: 0 })] }, { force: false });
      await loop.runOnce();
      await orchestrator.deploy({ apps: [wanted('/added', { instances: 0 })] }, { force: false });
      await loop.runOnce();
      const [info] = (await payloads('deployment_info')).filter((e) =>
        e.plan.steps.some((s: any) => s.actions.some((a: any) => a.app === '/added')),
      );
      expect(Object.keys(info?.plan ?? {}).sort()).toEqual([
        'id',
        'original',
        'steps',
        'target',
        'version',
      ]);
      const ids = (group: any) => group.apps.map((app: any) => app.id);
      // The deployment's own apps only: other apps (maybe another team's) stay out of its events.
      expect(ids(info?.plan.original)).toEqual([]);
      expect(ids(info?.plan.target)).toEqual(['/added']);
      expect(await payloads('group_change_success')).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ groupId: '/', version: info?.plan.version }),
        ]),
      );
    });

    it('tells of an app stopped by a deployment, and of health checks added and removed', async () => {
      const check = { protocol: 'MESOS_HTTP', path: '/health', portIndex: 0 } as never;
      await orchestrator.deploy(
        { apps: [wanted('/checked', { instances: 0, healthChecks: [check] })] },
        { force: false },
      );
      expect(await payloads('add_health_check_event')).toEqual([
        expect.objectContaining({ appId: '/checked', healthCheck: check }),
      ]);
      await loop.runOnce();
      await orchestrator.deploy({ apps: [], remove: ['/checked'] }, { force: false });
      await loop.runOnce();
      expect(await payloads('remove_health_check_event')).toEqual([
        expect.objectContaining({ appId: '/checked' }),
      ]);
      expect(await payloads('app_terminated_event')).toEqual([
        expect.objectContaining({ appId: '/checked' }),
      ]);
    });

    it('reports the failed step, the deployment and the group change of a cancelled deployment', async () => {
      const { deploymentId } = await orchestrator.deploy(
        { apps: [wanted('/cancelled', { instances: 2 })] },
        { force: false },
      );
      await orchestrator.cancelDeployment(deploymentId, { force: true });
      expect((await payloads('deployment_step_failure')).map((e) => e.plan.id)).toEqual([
        deploymentId,
      ]);
      expect(await payloads('deployment_failed')).toEqual([
        expect.objectContaining({ id: deploymentId, reason: 'Cancelled (force)' }),
      ]);
      expect(await payloads('group_change_failed')).toEqual([
        expect.objectContaining({ groupId: '/', reason: 'Cancelled (force)' }),
      ]);
    });

    it('tells of a task it does not know that ended', async () => {
      await statuses.handle({
        type: 'status',
        agentId: 'agent-a',
        taskId: 'edge_ghost.instance-1234._app.3',
        state: 'TASK_FAILED',
        seq: ++statusSeq,
        at: clock.now(),
      });
      expect(await payloads('unknown_instance_terminated_event')).toEqual([
        expect.objectContaining({
          instanceId: 'edge_ghost.instance-1234',
          runSpecId: '/edge/ghost',
          condition: 'Failed',
        }),
      ]);
    });
  });

  describe('readiness checks', () => {
    let server: Server;
    let status = 503;
    let port = 0;

    beforeAll(async () => {
      server = createServer((request, response) => {
        response.writeHead(request.url === '/ready' ? status : 404, {
          'content-type': 'text/plain',
        });
        response.end(`status ${status}`);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    it('keeps a deployment step waiting until the new task answers its readiness check', async () => {
      // The agent's only port is the server's: the task "listens" there.
      await liveness.onOffer(
        offer('agent-r', clock, [], { hostname: '127.0.0.1', ports: [[port, port]] }),
      );
      const check = {
        name: 'ready',
        protocol: 'HTTP',
        path: '/ready',
        portName: 'http-api',
        intervalSeconds: 5,
        timeoutSeconds: 2,
        httpStatusCodesForReady: [200],
        preserveLastResponse: true,
      };
      await orchestrator.deploy(
        {
          apps: [
            wanted('/ready', {
              instances: 1,
              portDefinitions: [{ port: 0, protocol: 'tcp', name: 'http-api' }],
              readinessChecks: [check],
            }),
          ],
        },
        { force: false },
      );
      await loop.runOnce();
      const [instance] = instancesOf('/ready') as [Instance];
      expect(instance.ports).toEqual([port]);
      await report(instance, 'TASK_RUNNING');
      status = 503;
      await readiness.tick();
      expect(applier.instances.get(instance.instanceId)?.readinessCheckResults).toEqual([
        {
          name: 'ready',
          taskId: currentTaskId(instance),
          ready: false,
          lastResponse: { status: 503, contentType: 'text/plain', body: 'status 503' },
        },
      ]);
      await loop.runOnce();
      expect(applier.apps.deployments()).toHaveLength(1);
      // Not due again before intervalSeconds.
      status = 200;
      await readiness.tick();
      expect(applier.instances.get(instance.instanceId)?.readinessCheckResults?.[0]?.ready).toBe(
        false,
      );
      clock.advance(5_000);
      await readiness.tick();
      expect(applier.instances.get(instance.instanceId)?.readinessCheckResults?.[0]?.ready).toBe(
        true,
      );
      await loop.runOnce();
      expect(applier.apps.deployments()).toEqual([]);
    });
  });

  describe('agent liveness', () => {
    it('marks the tasks of a silent agent unreachable, then expunges them per strategy', async () => {
      await liveness.onOffer(offer('agent-a', clock));
      await orchestrator.deploy(
        {
          apps: [
            wanted('/lost', {
              instances: 1,
              unreachableStrategy: { inactiveAfterSeconds: 10, expungeAfterSeconds: 20 },
            }),
          ],
        },
        { force: false },
      );
      await loop.runOnce();
      const [instance] = instancesOf('/lost') as [Instance];
      await report(instance, 'TASK_RUNNING');
      clock.advance(AGENT_TIMEOUT_MS + 1);
      await liveness.tick();
      expect(applier.instances.get(instance.instanceId)?.condition).toBe('Unreachable');
      expect(await eventTypes()).toContain('status_update_event');
      clock.advance(10_000);
      await liveness.tick();
      expect(applier.instances.get(instance.instanceId)?.condition).toBe('UnreachableInactive');
      clock.advance(10_000);
      await liveness.tick();
      expect(applier.instances.get(instance.instanceId)).toBeUndefined();
      expect(await store.instances.get(instance.instanceId)).toBeUndefined();
    });

    it('adopts a task its agent reports again after it was marked unreachable', async () => {
      await liveness.onOffer(offer('agent-a', clock));
      await orchestrator.deploy(
        { apps: [wanted('/back', { instances: 1, unreachableStrategy: 'disabled' })] },
        { force: false },
      );
      await loop.runOnce();
      const [instance] = instancesOf('/back') as [Instance];
      await report(instance, 'TASK_RUNNING');
      await liveness.onRevoked('agent-a');
      expect(applier.instances.get(instance.instanceId)?.condition).toBe('Unreachable');
      await liveness.onOffer(offer('agent-a', clock, [currentTaskId(instance)]));
      expect(applier.instances.get(instance.instanceId)?.condition).toBe('Running');
    });

    it('kills a task an agent runs that the master does not know', async () => {
      await liveness.onOffer(offer('agent-a', clock, ['ghost.instance-1._app.1']));
      expect(await commandsTo('agent-a')).toContainEqual({
        type: 'kill',
        taskId: 'ghost.instance-1._app.1',
      });
    });

    it('takes a placed task its agent no longer lists as gone, after the grace for launches', async () => {
      await liveness.onOffer(offer('agent-a', clock));
      await orchestrator.deploy({ apps: [wanted('/vanish', { instances: 1 })] }, { force: false });
      await loop.runOnce();
      const [instance] = instancesOf('/vanish') as [Instance];
      await report(instance, 'TASK_RUNNING');
      await liveness.onOffer(offer('agent-a', clock));
      expect(applier.instances.get(instance.instanceId)?.condition).toBe('Running');
      clock.advance(15_001);
      await liveness.onOffer(offer('agent-a', clock));
      expect(applier.instances.get(instance.instanceId)?.condition).toBe('Gone');
    });

    // Issue #12: 10,000 launches queued on 10 loaded agents; after 15 s 8,500 of them were taken
    // as gone and placed again, on the queues they were still waiting in.
    it('takes a placed task as gone only once its agent has read the launch, however long that takes', async () => {
      const read = (to: string) => ({ ...offer('agent-a', clock), commandsReadTo: to });
      await liveness.onOffer(offer('agent-a', clock));
      await orchestrator.deploy({ apps: [wanted('/queued', { instances: 1 })] }, { force: false });
      await loop.runOnce();
      const [instance] = instancesOf('/queued') as [Instance];
      const [launch] = await bus.read(topics.commands('agent-a'));
      clock.advance(60_000);
      await liveness.onOffer(read('0-1'));
      expect(applier.instances.get(instance.instanceId)?.condition).toBe('Provisioned');
      // Read and not listed (nor ended): gone at once, no grace needed.
      await liveness.onOffer(read(launch?.id ?? ''));
      expect(applier.instances.get(instance.instanceId)?.condition).toBe('Gone');
    });

    // Issue #12: a master behind on its reading marked all 10 agents unreachable, though each
    // sent an offer a second; their 10,000 tasks were replaced.
    it('keeps an agent whose offers wait unread, and expires it once it stops sending', async () => {
      let newest = 0;
      const book = createAgentBook({ store, clock, logger: silentLogger(), timeoutMs: 10_000 });
      const watcher = createAgentLiveness({
        applier,
        agents: book,
        commands: createAgentCommands({ bus }),
        clock,
        logger: silentLogger(),
        onChange: () => undefined,
        newestOfferId: async () => `${newest}-0`,
      });
      await watcher.onOffer(offer('agent-a', clock), '0-0');
      for (let second = 0; second < 30; second++) {
        clock.advance(1_000);
        newest++; // an offer a second, none of them read
        await watcher.tick();
      }
      expect(book.get('agent-a')?.state).toBe('active');
      // All read now, and no more: silent from here.
      await watcher.onOffer(offer('agent-a', clock), `${newest}-0`);
      for (let second = 0; second < 11; second++) {
        clock.advance(1_000);
        await watcher.tick();
      }
      expect(book.get('agent-a')?.state).toBe('unreachable');
    });

    it('kills an unwanted task again only after its agent has read the kill', async () => {
      const ghost = 'ghost.instance-1._app.1';
      const listing = (to: string) => ({ ...offer('agent-a', clock, [ghost]), commandsReadTo: to });
      for (let n = 0; n < 5; n++) {
        await liveness.onOffer(listing('0-1'));
        clock.advance(20_000);
      }
      const [kill, ...more] = await bus.read(topics.commands('agent-a'));
      expect(kill?.message).toEqual({ type: 'kill', taskId: ghost });
      expect(more).toEqual([]);
      // Read, and still listed (stopping, or the kill was lost): killed again.
      await liveness.onOffer(listing(kill?.id ?? ''));
      expect(await commandsTo('agent-a')).toEqual([
        { type: 'kill', taskId: ghost },
        { type: 'kill', taskId: ghost },
      ]);
    });
  });
});
