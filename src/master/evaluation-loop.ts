// The leader's control loop: reconcile apps, place what waits, advance deployments. Runs on
// every kick (coalesced; only the apps kicked) and on a timer (every app); state comes from the
// leader's memory (app cache, instance tracker), so a pass without changes does no I/O.
//
//   apps + instances ─► reconcileApp ─► create / relaunch / stop / expunge
//                                   └─► Scheduled instances ─► schedule() ─► launch commands
//   deployments ─► step complete? ─► next step ─► … ─► deployment_success
import { randomUUID } from 'node:crypto';
import type { AppDefinition, Deployment, Instance } from '../domain/index.js';
import { currentTaskId, isTerminal, newInstanceId, toTimestamp } from '../domain/index.js';
import type { Clock, Logger } from '../lib/index.js';
import { schedule } from '../scheduler/index.js';
import type { AgentCommands } from './agent-commands.js';
import type { AgentBook } from './agent-book.js';
import type { AppCache } from './app-cache.js';
import { deploymentPlanJson } from './deployment-events.js';
import type { InstanceTracker } from './instance-tracker.js';
import type { LaunchQueue } from './launch-queue.js';
import type { QueueView } from './launch-queue-view.js';
import { secretEnvOf, toLaunchSpec } from './launch-spec.js';
import { reconcileApp } from './reconcile-app.js';
import type { EventHub } from './services.js';

export interface EvaluationLoop {
  /**
   * Asks for a pass soon; many kicks before it runs make one pass. With `appIds` the pass
   * reconciles those apps (and those of running deployments) only; without, every app.
   */
  kick(appIds?: readonly string[]): void;
  /** One full pass now (tests, start-up). */
  runOnce(): Promise<void>;
  start(): void;
  /** Resolves when the pass in progress has ended. */
  stop(): Promise<void>;
}

export interface EvaluationLoopOptions {
  /** Apps and deployments as the leader holds them; deployment progress is written through it. */
  cache: AppCache;
  tracker: InstanceTracker;
  agents: AgentBook;
  commands: AgentCommands;
  launchQueue: LaunchQueue;
  queueView: QueueView;
  events: EventHub;
  clock: Clock;
  logger: Logger;
  intervalMs?: number;
  algorithm?: 'binpack' | 'spread';
  /** Called when a pass fails; the master treats it as fatal (restart from persisted state). */
  onFatal: (error: unknown) => void;
}

/** How a pass looks apps up: a copy of all taken at its start, or the app cache itself. */
type AppLookup = Pick<ReadonlyMap<string, AppDefinition>, 'get' | 'has'>;

export function createEvaluationLoop(options: EvaluationLoopOptions): EvaluationLoop {
  const { cache, tracker, agents, commands, launchQueue, events, clock, logger } = options;
  const intervalMs = options.intervalMs ?? 1_000;
  let running: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let stopped = true;
  /**
   * Apps the next pass reconciles. A kick names the apps it changed, so a pass after one POST
   * costs one app, not thousands; the timer's pass takes them all, which is what catches
   * changes that come with time alone (backoff elapsed, unreachable timeouts).
   */
  let dirty: Set<string> | 'all' = 'all';

  function markDirty(appIds?: readonly string[]): void {
    if (!appIds) dirty = 'all';
    else if (dirty !== 'all') for (const id of appIds) dirty.add(id);
  }

  function newInstance(app: AppDefinition, now: number): Instance {
    const at = toTimestamp(now);
    return {
      instanceId: newInstanceId(app.id),
      appId: app.id,
      appVersion: app.version,
      goal: 'Running',
      condition: 'Scheduled',
      incarnation: 1,
      ports: [],
      resources: { cpus: app.cpus, memMiB: app.mem, diskMiB: app.disk },
      createdAt: at,
      conditionChangedAt: at,
      healthCheckResults: [],
      lastStatusSeq: 0,
      launchNotBefore: 0,
    };
  }

  async function stopInstances(toStop: Instance[]): Promise<void> {
    await tracker.put(toStop.map((i) => ({ ...i, goal: 'Decommissioned' as const })));
    for (const instance of toStop) {
      if (
        instance.agentId &&
        !isTerminal(instance.condition) &&
        instance.condition !== 'Scheduled'
      ) {
        await commands.kill(instance.agentId, currentTaskId(instance));
      }
    }
  }

  /** Apps in a later step of a running deployment are left alone until their step comes. */
  function heldApps(deployments: Deployment[]): Set<string> {
    const held = new Set<string>();
    for (const d of deployments) {
      d.steps.forEach((step, index) => {
        if (index + 1 > Math.max(d.currentStep, 1)) for (const a of step.actions) held.add(a.app);
      });
    }
    return held;
  }

  async function reconcileAll(
    apps: AppLookup,
    ctx: {
      held: Set<string>;
      toReconcile: AppDefinition[];
      /** The app ids whose instances may have lost their app; undefined = every instance. */
      orphansFrom?: string[];
      now: number;
    },
  ) {
    const { held, toReconcile, orphansFrom, now } = ctx;
    const converged = new Set<string>();
    const toPut: Instance[] = [];
    const toStop: Instance[] = [];
    const toExpunge: string[] = [];
    const agentList = agents.list();
    for (const app of toReconcile) {
      if (held.has(app.id)) continue;
      const result = reconcileApp(app, tracker.byApp(app.id), { now, agents: agentList });
      if (result.isConverged) converged.add(app.id);
      for (let n = 0; n < result.create; n++) toPut.push(newInstance(app, now));
      for (const instance of result.relaunch) {
        toPut.push({
          ...instance,
          appVersion: app.version,
          condition: 'Scheduled',
          incarnation: instance.incarnation + 1,
          agentId: undefined,
          host: undefined,
          ports: [],
          stagedAt: undefined,
          startedAt: undefined,
          conditionChangedAt: toTimestamp(now),
          healthCheckResults: [],
          lastStatusSeq: 0,
          launchNotBefore: launchQueue.notBefore(app),
        });
      }
      toStop.push(...result.stop);
      toExpunge.push(...result.expunge.map((i) => i.instanceId));
    }
    // Instances of apps that no longer exist (and are not waiting for their stop step). Apps
    // are removed only by deploys, which kick the removed ids: a kicked pass looks at those.
    const candidates = orphansFrom ? orphansFrom.flatMap((id) => tracker.byApp(id)) : tracker.all();
    for (const instance of candidates) {
      if (apps.has(instance.appId) || held.has(instance.appId)) continue;
      if (instance.goal !== 'Decommissioned') toStop.push(instance);
      else if (isTerminal(instance.condition) || instance.condition === 'Scheduled')
        toExpunge.push(instance.instanceId);
    }
    await tracker.put(toPut);
    await stopInstances(toStop);
    await tracker.remove(toExpunge);
    return converged;
  }

  async function place(input: {
    lookup: AppLookup;
    /** Every app: the scheduler weighs the instances of all of them. */
    allApps: () => ReadonlyMap<string, AppDefinition>;
    held: Set<string>;
    now: number;
  }) {
    const { lookup, held, now } = input;
    const waiting = tracker
      .all()
      .filter((i) => i.condition === 'Scheduled' && i.goal === 'Running' && !held.has(i.appId))
      .filter((i) => {
        const app = lookup.get(i.appId);
        return app !== undefined && i.launchNotBefore <= now && launchQueue.notBefore(app) <= now;
      });
    if (waiting.length === 0) return;
    const apps = input.allApps();
    const active = tracker
      .all()
      .filter((i) => !isTerminal(i.condition) && i.condition !== 'Scheduled');
    const plan = schedule({
      apps: [...apps.values()],
      instances: active,
      agents: agents.available(active),
      requests: waiting.map((i) => ({
        instanceId: i.instanceId,
        app: apps.get(i.appId) as AppDefinition,
      })),
      now,
      seed: randomUUID(),
      algorithm: options.algorithm,
    });
    options.queueView.record(plan, now);
    if (plan.placements.length === 0) return;
    const placed: Instance[] = [];
    for (const placement of plan.placements) {
      const instance = tracker.get(placement.instanceId);
      const app = apps.get(placement.appId);
      if (!instance || !app) continue;
      placed.push({
        ...instance,
        appVersion: app.version,
        condition: 'Provisioned',
        agentId: placement.agentId,
        host: placement.hostname,
        ports: placement.ports,
        stagedAt: toTimestamp(now),
        conditionChangedAt: toTimestamp(now),
      });
    }
    // Persist before sending: a master that dies in between finds Provisioned instances and
    // the agents' reports tell whether the launch arrived.
    await tracker.put(placed);
    await Promise.all(
      placed.map((instance) => {
        const app = apps.get(instance.appId) as AppDefinition;
        return commands.launch(instance.agentId as string, {
          taskId: currentTaskId(instance),
          spec: toLaunchSpec(app, instance.ports),
          secretEnv: secretEnvOf(app),
        });
      }),
    );
    logger.debug({ placed: placed.length, unplaced: plan.unplaced.length }, 'placed instances');
  }

  function isActionDone(
    action: Deployment['steps'][number]['actions'][number],
    ctx: { apps: AppLookup; converged: Set<string> },
  ): boolean {
    switch (action.action) {
      case 'StartApplication':
        return ctx.apps.has(action.app);
      case 'StopApplication':
        return tracker.byApp(action.app).length === 0;
      case 'ScaleApplication':
      case 'RestartApplication':
        return ctx.converged.has(action.app) || !ctx.apps.has(action.app);
      default:
        return false;
    }
  }

  async function advanceDeployments(
    deployments: Deployment[],
    ctx: { apps: AppLookup; converged: Set<string> },
  ) {
    const progressed: Deployment[] = [];
    const finished: string[] = [];
    /** In the order a deployment at a time would emit them, sent once the progress is stored. */
    const toEmit: Parameters<EventHub['emit']>[0][] = [];
    for (const deployment of deployments) {
      let current = { ...deployment, currentStep: Math.max(deployment.currentStep, 1) };
      while (current.currentStep <= current.steps.length) {
        const step = current.steps[current.currentStep - 1];
        if (!step || !step.actions.every((a) => isActionDone(a, ctx))) break;
        toEmit.push({
          eventType: 'deployment_step_success',
          plan: deploymentPlanJson(current),
          currentStep: step,
        });
        current = { ...current, currentStep: current.currentStep + 1 };
      }
      if (current.currentStep > current.steps.length) {
        finished.push(deployment.id);
        toEmit.push({
          eventType: 'deployment_success',
          id: deployment.id,
          plan: deploymentPlanJson(deployment),
        });
      } else if (current.currentStep !== deployment.currentStep) {
        progressed.push(current);
        toEmit.push({
          eventType: 'deployment_info',
          plan: deploymentPlanJson(current),
          currentStep: current.steps[current.currentStep - 1] ?? { actions: [] },
        });
      }
    }
    if (progressed.length === 0 && finished.length === 0) return;
    // One write for every deployment of the pass, shared with concurrent deploys.
    await cache.commit({ progress: progressed, removeDeployments: finished });
    for (const deploymentId of finished) logger.info({ deploymentId }, 'deployment finished');
    for (const event of toEmit) await events.emit(event);
  }

  async function pass(): Promise<void> {
    const now = clock.now();
    const kicked = dirty;
    dirty = new Set();
    // A full pass reads a copy of every app taken now; a kicked one reads the few it needs
    // straight from the cache (copying thousands of apps per POST was a tenth of the CPU).
    const snapshot = kicked === 'all' ? cache.apps() : undefined;
    const lookup: AppLookup = snapshot ?? {
      get: (id) => cache.get(id),
      has: (id) => cache.get(id) !== undefined,
    };
    const allApps = () => snapshot ?? cache.apps();
    let deployments = cache.deployments();
    try {
      // Apps of running deployments are always reconciled: their steps wait on convergence.
      const scope = new Set([
        ...(kicked === 'all' ? [] : kicked),
        ...deployments.flatMap((d) => d.affectedApps),
      ]);
      const toReconcile = () =>
        snapshot ? [...snapshot.values()] : [...scope].flatMap((id) => cache.get(id) ?? []);
      const orphansFrom = snapshot ? undefined : [...scope];
      let held = heldApps(deployments);
      const converged = await reconcileAll(lookup, {
        held,
        toReconcile: toReconcile(),
        orphansFrom,
        now,
      });
      await place({ lookup, allApps, held, now });
      await advanceDeployments(deployments, { apps: lookup, converged });
      // A finished step releases the apps of the next one: reconcile them in this same pass.
      deployments = cache.deployments();
      const nowHeld = heldApps(deployments);
      if ([...held].some((id) => !nowHeld.has(id))) {
        held = nowHeld;
        await reconcileAll(lookup, { held, toReconcile: toReconcile(), orphansFrom, now });
        await place({ lookup, allApps, held, now });
      }
    } catch (error) {
      // The next pass (after recovery) must not skip what this one failed to do.
      markDirty();
      throw error;
    }
  }

  function run(): void {
    if (running) {
      again = true;
      return;
    }
    running = pass()
      .catch((error: unknown) => options.onFatal(error))
      .finally(() => {
        running = undefined;
        if (again && !stopped) {
          again = false;
          run();
        }
      });
  }

  return {
    kick(appIds) {
      markDirty(appIds);
      if (stopped) return;
      if (running) again = true;
      else setImmediate(run);
    },
    async runOnce() {
      await running;
      markDirty();
      await pass();
    },
    start() {
      stopped = false;
      markDirty();
      timer = setInterval(() => {
        markDirty();
        run();
      }, intervalMs);
      run();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
