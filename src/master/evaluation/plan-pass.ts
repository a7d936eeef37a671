// One pass, decided: snapshot → reconcile → advance deployments → schedule → intents. Pure:
// the same snapshot (with its seed) always gives the same intents, so a bad placement replays.
//
//   apps in scope ─► reconcile ─► place n / relaunch / stop / expunge ─┐
//   deployments ─► advance (converged apps) ─► released apps reconciled ┤
//   waiting instances (Scheduled, past backoff) + new ones ─► schedule() ┴► one intent per app
//                                                                           + one per deployment
import type { TaskLaunchSpec } from '../../bus/index.js';
import type { AppDefinition, Instance } from '../../domain/index.js';
import { currentTaskId, isTerminal } from '../../domain/index.js';
import type { Progress } from '../../deployment/index.js';
import { advance, heldApps } from '../../deployment/index.js';
import type { Plan, ReconcileResult } from '../../scheduler/index.js';
import { reconcile, schedule } from '../../scheduler/index.js';
import type { Intent } from '../applier/index.js';
import { progressEvents } from '../deployment-events.js';
import { conditionEvents } from '../instance-events.js';
import { secretEnvOf, toLaunchSpec } from '../launch-spec.js';
import { newInstance, placed, relaunched, seededInstanceId } from './new-instance.js';
import type { PassSnapshot } from './snapshot.js';

/** An intent of the pass and what to send once it applied. */
export interface PlannedIntent {
  intent: Intent;
  /** Placements: launch commands, sent only after the intent is stored. */
  /** Secret variables are named (variable → secret path), opened only when sent. */
  launches: {
    agentId: string;
    taskId: string;
    spec: TaskLaunchSpec;
    secretEnv: Record<string, string>;
  }[];
  /** Stopped instances running on an agent: kill commands. */
  kills: { agentId: string; taskId: string }[];
  /** The app these changes are of (absent: a deployment's progress). */
  appId?: string;
  /** The deployment this intent finishes. */
  finishes?: string;
}

export interface PassPlan {
  intents: PlannedIntent[];
  /** The scheduler's answer (placements and what could not be placed, with reasons). */
  placement: Plan;
  /** Apps of a deployment not yet stored that advanced: a pass once it is stored writes that. */
  deferred: string[];
}

/** Changes of one app being collected (or of its orphaned instances). */
interface AppChanges {
  app?: AppDefinition;
  create: Instance[];
  update: Instance[];
  expunge: string[];
  kills: PlannedIntent['kills'];
}

export function planPass(snapshot: PassSnapshot): PassPlan {
  const { now, apps } = snapshot;
  const byApp = new Map<string, Instance[]>();
  /**
   * Instance id → the revision an intent about it names, built on first need: most passes
   * change nothing, and a map of every instance of a 10,000-instance app per pass was the
   * hottest line of the master during 10,000 launches (their statuses each ask for a pass).
   */
  let revisions: Map<string, number> | undefined;
  const revisionOf = (instanceId: string) =>
    (revisions ??= new Map(snapshot.instances.map((r) => [r.value.instanceId, r.revision]))).get(
      instanceId,
    );
  for (const { value } of snapshot.instances) {
    const list = byApp.get(value.appId);
    if (list) list.push(value);
    else byApp.set(value.appId, [value]);
  }
  const deploymentApps = snapshot.deployments.flatMap((d) => d.value.affectedApps);
  // Apps of running deployments are always reconciled: their steps wait on convergence.
  const scopeIds =
    snapshot.scope === 'all'
      ? [...apps.keys()]
      : [...new Set([...snapshot.scope, ...deploymentApps])];

  const results = new Map<string, ReconcileResult>();
  const reconcileFree = (held: Set<string>) => {
    for (const id of scopeIds) {
      const app = apps.get(id);
      if (!app || held.has(id) || results.has(id)) continue;
      results.set(
        id,
        reconcile({
          app,
          instances: byApp.get(id) ?? [],
          now,
          agents: snapshot.agents,
          draining: snapshot.draining,
        }),
      );
    }
  };
  const view = {
    hasApp: (id: string) => apps.has(id),
    instanceCount: (id: string) => byApp.get(id)?.length ?? 0,
    isConverged: (id: string) => results.get(id)?.isConverged ?? false,
  };
  // A finished step releases the apps of the next one: reconcile them in this same pass, and
  // so on while steps finish (an app with nothing to do converges at once). Each round only
  // adds results, so progress only grows; the rounds end when no app is released.
  let held = heldApps(snapshot.deployments.map((d) => d.value));
  let progress: { revision: number; progress: Progress }[];
  for (;;) {
    reconcileFree(held);
    progress = snapshot.deployments.map(({ value, revision }) => ({
      revision,
      progress: advance(value, view),
    }));
    const next = heldApps(
      progress.filter((p) => !p.progress.isFinished).map((p) => p.progress.deployment),
    );
    const isReleased = [...held].some((id) => !next.has(id));
    held = next;
    if (!isReleased) break;
  }

  const changes = new Map<string, AppChanges>();
  const changesOf = (appId: string): AppChanges => {
    let entry = changes.get(appId);
    if (!entry) {
      entry = { app: apps.get(appId), create: [], update: [], expunge: [], kills: [] };
      changes.set(appId, entry);
    }
    return entry;
  };
  const stop = (entry: AppChanges, instance: Instance) => {
    entry.update.push({ ...instance, goal: 'Decommissioned' });
    if (instance.agentId && !isTerminal(instance.condition) && instance.condition !== 'Scheduled')
      entry.kills.push({ agentId: instance.agentId, taskId: currentTaskId(instance) });
  };

  let created = 0;
  /** Instances this pass wants placed, in order: waiting ones first, then new and relaunched. */
  const waiting: Instance[] = [];
  const decided = new Set<string>();
  for (const [appId, result] of results) {
    // Most apps of a timer's pass have nothing to do: no entry (four arrays) for each of them.
    const hasWork =
      result.place > 0 || result.relaunch.length + result.stop.length + result.expunge.length > 0;
    if (!hasWork) continue;
    const app = apps.get(appId) as AppDefinition;
    const entry = changesOf(appId);
    for (let n = 0; n < result.place; n++)
      entry.create.push(newInstance(app, seededInstanceId(appId, snapshot.seed, created++), now));
    const notBefore = snapshot.backoff.get(appId) ?? 0;
    for (const instance of result.relaunch) {
      entry.update.push(relaunched(instance, app, { now, notBefore }));
      decided.add(instance.instanceId);
    }
    for (const instance of result.stop) {
      stop(entry, instance);
      decided.add(instance.instanceId);
    }
    for (const instance of result.expunge) {
      entry.expunge.push(instance.instanceId);
      decided.add(instance.instanceId);
    }
  }
  // Instances of apps that no longer exist (and are not waiting for their stop step). Apps are
  // removed only by deploys, which kick the removed ids: a kicked pass looks at those.
  const orphanCandidates =
    snapshot.scope === 'all'
      ? snapshot.instances.map((r) => r.value)
      : scopeIds.flatMap((id) => byApp.get(id) ?? []);
  for (const instance of orphanCandidates) {
    if (apps.has(instance.appId) || held.has(instance.appId)) continue;
    const entry = changesOf(instance.appId);
    if (instance.goal !== 'Decommissioned') stop(entry, instance);
    else if (isTerminal(instance.condition) || instance.condition === 'Scheduled')
      entry.expunge.push(instance.instanceId);
  }

  const isDue = (instance: Instance) =>
    instance.condition === 'Scheduled' &&
    instance.goal === 'Running' &&
    !held.has(instance.appId) &&
    apps.has(instance.appId) &&
    instance.launchNotBefore <= now &&
    (snapshot.backoff.get(instance.appId) ?? 0) <= now;
  for (const { value } of snapshot.instances) {
    if (!decided.has(value.instanceId) && isDue(value)) waiting.push(value);
  }
  for (const entry of changes.values()) {
    for (const instance of [...entry.create, ...entry.update])
      if (isDue(instance)) waiting.push(instance);
  }

  const placement =
    waiting.length === 0
      ? { placements: [], unplaced: [] }
      : schedule({
          apps: [...new Set(waiting.map((i) => i.appId))].map(
            (id) => apps.get(id) as AppDefinition,
          ),
          instances: snapshot.available.length === 0 ? [] : activeInstances(snapshot),
          agents: [...snapshot.available],
          requests: waiting.map((i) => ({
            instanceId: i.instanceId,
            app: apps.get(i.appId) as AppDefinition,
          })),
          now,
          seed: snapshot.seed,
          algorithm: snapshot.algorithm,
          rolePolicies: snapshot.rolePolicies,
        });

  const placements = new Map(placement.placements.map((p) => [p.instanceId, p]));
  const launches = new Map<string, PlannedIntent['launches']>();
  const withPlacement = (instance: Instance): Instance => {
    const where = placements.get(instance.instanceId);
    const app = apps.get(instance.appId);
    if (!where || !app) return instance;
    const done = placed(instance, app, { placement: where, now });
    const list = launches.get(app.id) ?? [];
    list.push({
      agentId: where.agentId,
      taskId: currentTaskId(done),
      spec: toLaunchSpec(app, done.ports),
      secretEnv: secretEnvOf(app),
    });
    launches.set(app.id, list);
    return done;
  };
  for (const entry of changes.values()) {
    entry.create = entry.create.map(withPlacement);
    entry.update = entry.update.map(withPlacement);
  }
  // Waiting instances this pass did not otherwise change, now placed.
  for (const instance of waiting) {
    if (!placements.has(instance.instanceId) || revisionOf(instance.instanceId) === undefined)
      continue;
    if (decided.has(instance.instanceId)) continue;
    changesOf(instance.appId).update.push(withPlacement(instance));
  }

  const intents: PlannedIntent[] = [];
  const deferred: string[] = [];
  for (const [appId, entry] of changes) {
    const intent: Intent = {
      source: 'evaluation',
      // Computed for this version of the app (or for its absence): a deploy since voids it.
      requireApps: [{ appId, version: entry.app?.version }],
      create: entry.create,
      update: entry.update.map((instance) => ({
        instance,
        revision: revisionOf(instance.instanceId) ?? -1,
      })),
      expunge: entry.expunge.map((instanceId) => ({
        instanceId,
        revision: revisionOf(instanceId) ?? -1,
      })),
    };
    // Placed now: Marathon's events for a Provisioned instance (its task shown as TASK_STAGING),
    // stored with the placement. The agent reports from TASK_STARTING on, as Mesos' executors do.
    const launched = [...entry.create, ...entry.update].filter(
      (i) => i.condition === 'Provisioned' && placements.has(i.instanceId),
    );
    if (launched.length > 0) intent.events = launched.flatMap((i) => conditionEvents(i));
    const isEmpty = !entry.create.length && !entry.update.length && !entry.expunge.length;
    if (!isEmpty)
      intents.push({ intent, launches: launches.get(appId) ?? [], kills: entry.kills, appId });
  }
  for (const { revision, progress: p } of progress) {
    const planned = deploymentIntent(p, revision);
    // A deployment not yet stored (snapshot.ts `PendingDeploy`) has no revision to name.
    if (planned && revision < 0) deferred.push(...p.deployment.affectedApps);
    else if (planned) intents.push(planned);
  }
  return { intents, placement, deferred };
}

/** Placed, not ended: what holds resources on agents. */
function activeInstances(snapshot: PassSnapshot): Instance[] {
  return snapshot.instances
    .map((r) => r.value)
    .filter((i) => !isTerminal(i.condition) && i.condition !== 'Scheduled');
}

/** A deployment's progress as an intent with Marathon's events, or undefined when none. */
function deploymentIntent(progress: Progress, revision: number): PlannedIntent | undefined {
  const { deployment, completed, isFinished } = progress;
  if (completed.length === 0 && !isFinished) return undefined;
  const events = progressEvents(progress);
  if (isFinished) {
    return {
      intent: {
        source: 'evaluation',
        finishDeployments: [{ id: deployment.id, revision }],
        events,
      },
      launches: [],
      kills: [],
      finishes: deployment.id,
    };
  }
  return {
    intent: { source: 'evaluation', progress: [{ deployment, revision }], events },
    launches: [],
    kills: [],
  };
}
