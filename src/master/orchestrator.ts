// The write side of the API: turns app changes into stored versions and deployments, kills
// tasks, cancels deployments. The evaluation loop then makes the agents match.
import { randomUUID } from 'node:crypto';
import type { AppDefinition, Deployment, DeploymentResult, Instance } from '../domain/index.js';
import {
  AppLockedError,
  ConflictError,
  NotFoundError,
  currentTaskId,
  isTerminal,
  toTimestamp,
} from '../domain/index.js';
import type { Progress } from '../deployment/index.js';
import { advance, computePlan, isSameConfig } from '../deployment/index.js';
import type { Clock, Logger } from '../lib/index.js';
import type { AgentCommands } from './agent-commands.js';
import type { Applier, IntentResult } from './applier/index.js';
import type { PendingDeploy } from './evaluation/index.js';
import type { LaunchQueue } from './launch-queue.js';
import type { Orchestrator } from './services.js';
import {
  failedEvents,
  healthCheckEvents,
  progressEvents,
  startedEvents,
} from './deployment-events.js';

export interface OrchestratorOptions {
  /** The one writer: apps, deployments and instances are read from it and changed through it. */
  applier: Applier;
  commands: AgentCommands;
  launchQueue: LaunchQueue;
  clock: Clock;
  logger: Logger;
  /** Called after every change so the evaluation loop runs soon (for `appIds` only, if given). */
  onChange: (appIds?: string[]) => void;
  /**
   * Called in the turn a deploy's intent is submitted, when it has instances to place: the
   * loop's pass places them in the same write (evaluation-loop.ts `passAlong`). True when a pass
   * took it; else the deploy kicks once stored.
   */
  passAlong?: (pending: PendingDeploy) => boolean;
}

/**
 * The deployment as far as it gets in the write that starts it: a step with nothing to wait for
 * is done there, not by a pass in a write of its own. A new app's StartApplication is; so is
 * every step when each app it touches had and keeps no instances (no pass places any for it).
 * An app with instances may yet gain one from a placement already queued: never done here.
 */
function progressAtStart(
  deployment: Deployment,
  apps: {
    current: Map<string, AppDefinition>;
    target: Map<string, AppDefinition>;
    remove: string[];
  },
  tracker: Pick<Applier['instances'], 'recordsOfApp'>,
): Progress {
  const { current, target, remove } = apps;
  const isIdle = (id: string) =>
    !current.get(id)?.instances &&
    !target.get(id)?.instances &&
    tracker.recordsOfApp(id).length === 0;
  return advance(deployment, {
    hasApp: (id) => target.has(id) || (current.has(id) && !remove.includes(id)),
    instanceCount: (id) => (isIdle(id) ? 0 : Number.POSITIVE_INFINITY),
    isConverged: isIdle,
  });
}

export function createOrchestrator(options: OrchestratorOptions): Orchestrator {
  const { applier, commands, launchQueue, clock, logger, onChange, passAlong } = options;
  const cache = applier.apps;
  const tracker = applier.instances;
  let lastVersionMs = 0;
  /** Apps with a deploy between its checks and its commit; a deploy of one of them waits. */
  const busy = new Map<string, Promise<void>>();

  /** Versions are timestamps; two changes in one millisecond must still differ. */
  function nextVersion(): string {
    lastVersionMs = Math.max(clock.now(), lastVersionMs + 1);
    return toTimestamp(lastVersionMs);
  }

  /**
   * Resolves when no deploy of `appIds` is under way. The check that ends it runs in the turn
   * it resolves in: await it and continue to `reserve` without another await (two deploys of
   * one app that both found none pending would otherwise both pass their checks).
   */
  function waitTurn(appIds: string[]): Promise<void> | undefined {
    const pending = appIds.flatMap((id) => busy.get(id) ?? []);
    if (pending.length === 0) return undefined;
    return Promise.all(pending).then(() => undefined);
  }

  /** Marks `appIds` busy until the returned function runs. */
  function reserve(appIds: string[]): () => void {
    let release = () => {};
    const done = new Promise<void>((resolve) => (release = resolve));
    for (const id of appIds) busy.set(id, done);
    return () => {
      for (const id of appIds) if (busy.get(id) === done) busy.delete(id);
      release();
    };
  }

  function lockingDeployments(appIds: string[], force: boolean): Deployment[] {
    const wanted = new Set(appIds);
    const locking = cache.deployments().filter((d) => d.affectedApps.some((id) => wanted.has(id)));
    if (locking.length > 0 && !force) throw new AppLockedError(locking.map((d) => d.id));
    return locking;
  }

  /** A result the store accepted; a conflict here is a broken invariant (writes take turns). */
  function accepted(result: IntentResult): void {
    if (!result.ok) throw new Error(`Deployment refused: ${result.conflicts.join('; ')}`);
  }

  /** Marks the instances decommissioned (they are not relaunched); recomputed on a conflict. */
  async function decommission(instanceIds: string[]): Promise<void> {
    await applier.update(() => {
      const update = instanceIds.flatMap((id) => {
        const instance = tracker.get(id);
        const revision = tracker.revisionOf(id);
        if (!instance || revision === undefined || instance.goal === 'Decommissioned') return [];
        return [{ instance: { ...instance, goal: 'Decommissioned' as const }, revision }];
      });
      return update.length > 0 ? { source: 'orchestrator', update } : undefined;
    });
  }

  async function killInstance(instance: Instance): Promise<void> {
    if (instance.agentId && !isTerminal(instance.condition) && instance.condition !== 'Scheduled') {
      await commands.kill(instance.agentId, currentTaskId(instance));
    }
  }

  const orchestrator: Orchestrator = {
    async deploy(change, { force }) {
      const remove = change.remove ?? [];
      const restart = change.restart ?? [];
      const affected = [...new Set([...change.apps.map((a) => a.id), ...remove, ...restart])];
      for (let turn = waitTurn(affected); turn; turn = waitTurn(affected)) await turn;
      // From here to `reserve` nothing awaits: the checks and the reservation are one step, so
      // two concurrent deploys of an app never both pass them.
      const current = new Map<string, AppDefinition>();
      for (const id of affected) {
        const app = cache.get(id);
        if (app) current.set(id, app);
      }
      for (const app of change.isCreation ? change.apps : []) {
        if (current.has(app.id))
          throw new ConflictError(`An app with id [${app.id}] already exists.`);
      }
      for (const id of [...remove, ...restart]) {
        if (!current.has(id)) throw new NotFoundError(`App '${id}' does not exist`);
      }
      const locking = lockingDeployments(affected, force);

      const version = nextVersion();
      const target = new Map<string, AppDefinition>();
      for (const wanted of change.apps) {
        const old = current.get(wanted.id);
        const configChanged = !old || !isSameConfig(old, wanted);
        const scaled = !old || old.instances !== wanted.instances;
        target.set(wanted.id, {
          ...wanted,
          version,
          versionInfo: {
            lastConfigChangeAt: configChanged
              ? version
              : (old?.versionInfo.lastConfigChangeAt ?? version),
            lastScalingAt:
              configChanged || scaled ? version : (old?.versionInfo.lastScalingAt ?? version),
          },
        });
      }
      for (const id of restart) {
        const app = target.get(id) ?? current.get(id);
        if (!app) continue;
        target.set(id, {
          ...app,
          version,
          versionInfo: { ...app.versionInfo, lastConfigChangeAt: version },
        });
      }

      const original = [...current.values()];
      const targetApps = [...target.values()];
      const deployment: Deployment = {
        id: randomUUID(),
        version,
        affectedApps: affected,
        steps: computePlan({ original, target: targetApps, restart }),
        currentStep: 0,
        original,
        target: targetApps,
        createdAt: toTimestamp(clock.now()),
      };
      const progress = progressAtStart(deployment, { current, target, remove }, tracker);
      const { isFinished } = progress;
      const release = reserve(affected);
      let isPassedAlong = false;
      try {
        // Durable before the answer; concurrent deploys share the transaction (group commit).
        const written = applier.submit({
          source: 'orchestrator',
          // Turns are taken per app (`waitTurn`), so these hold; the applier makes sure.
          requireApps: affected.map((appId) => ({ appId, version: current.get(appId)?.version })),
          apps: targetApps,
          removeApps: remove,
          startDeployments: isFinished ? [] : [progress.deployment],
          removeDeployments: locking.map((d) => d.id),
          ...(change.groups ? { groups: change.groups } : {}),
          events: [
            ...locking.flatMap((d) => failedEvents(d, 'Cancelled by a forced deployment')),
            ...healthCheckEvents({ original, target: targetApps, removed: remove }),
            ...startedEvents(deployment),
            ...(change.announce?.(targetApps) ?? []),
            ...(progress.completed.length > 0 ? progressEvents(progress) : []),
          ],
        });
        // Placements in this same write: one write less before the first launch.
        if (!isFinished && targetApps.some((app) => app.instances > 0) && passAlong)
          isPassedAlong = passAlong({
            apps: targetApps,
            removeApps: remove,
            deployment: progress.deployment,
            removeDeployments: locking.map((d) => d.id),
          });
        accepted(await written);
      } finally {
        release();
      }
      for (const app of targetApps) {
        if (app.versionInfo.lastConfigChangeAt === version) launchQueue.reset(app.id);
      }
      logger.info(
        { deploymentId: deployment.id, apps: affected, steps: deployment.steps.length },
        isFinished ? 'deployment started and finished' : 'deployment started',
      );
      // A finished deployment left nothing for a pass, unless it replaced one that held others;
      // a pass that went along with the write has done what a kick would.
      if (!isPassedAlong && (!isFinished || locking.length > 0)) onChange(affected);
      return { deploymentId: deployment.id, version };
    },

    async killTasks(taskIds, { scale, wipe, force }) {
      const killed: Instance[] = [];
      for (const taskId of taskIds) {
        const instance = tracker.byTaskId(taskId);
        if (!instance) throw new NotFoundError(`Task '${taskId}' does not exist`);
        killed.push(instance);
      }
      let deployment: DeploymentResult | undefined;
      if (scale) {
        const byApp = new Map<string, number>();
        for (const instance of killed)
          byApp.set(instance.appId, (byApp.get(instance.appId) ?? 0) + 1);
        const apps: AppDefinition[] = [];
        for (const [appId, count] of byApp) {
          const app = cache.get(appId);
          if (app) apps.push({ ...app, instances: Math.max(0, app.instances - count) });
        }
        lockingDeployments([...byApp.keys()], force);
        // Decommission first, so the scale-down deployment does not pick other instances.
        await decommission(killed.map((i) => i.instanceId));
        deployment = await orchestrator.deploy({ apps }, { force });
      } else if (wipe) {
        await decommission(killed.map((i) => i.instanceId));
      }
      for (const instance of killed) await killInstance(instance);
      onChange();
      return { killed, deployment };
    },

    async cancelDeployment(id, { force }) {
      const deployment = cache.deployment(id);
      if (!deployment) throw new NotFoundError(`DeploymentPlan ${id} does not exist`);
      accepted(
        await applier.submit({
          source: 'orchestrator',
          removeDeployments: [id],
          events: failedEvents(deployment, force ? 'Cancelled (force)' : 'Cancelled, rolling back'),
        }),
      );
      if (force) {
        onChange();
        return undefined;
      }
      const originalIds = new Set(deployment.original.map((a) => a.id));
      return orchestrator.deploy(
        {
          apps: deployment.original,
          remove: deployment.target.map((a) => a.id).filter((appId) => !originalIds.has(appId)),
        },
        { force: true },
      );
    },

    async resetDelay(appId) {
      const had = launchQueue.reset(appId);
      if (had) onChange([appId]);
      return had;
    },

    async updateGroups(records) {
      if (records.length > 0)
        accepted(await applier.submit({ source: 'orchestrator', groups: records }));
    },
  };
  return orchestrator;
}
