// What one pass decides from: the leader's state at one moment, with the revisions its intents
// name, the pass's clock reading and seed. Plain data: a pass replays from it exactly.
import type { Agent, AppDefinition, Deployment, Instance, RolePolicy } from '../../domain/index.js';
import { roleOf } from '../../domain/index.js';
import type { AgentBook } from '../agent-book.js';
import type { Applier, Versioned } from '../applier/index.js';
import type { LaunchQueue } from '../launch-queue.js';
import { inMaintenance } from './drain.js';

export interface PassSnapshot {
  /** epoch ms */
  now: number;
  /** Seeds placement ties and new instance ids; logged with every pass that places. */
  seed: string;
  /** The apps to reconcile: those kicked (plus those of running deployments), or all. */
  scope: readonly string[] | 'all';
  /** Every app the pass may read: those in scope, of running deployments and of waiting instances. */
  apps: ReadonlyMap<string, AppDefinition>;
  /**
   * The instances the pass reads, with the revision an intent about it names: every one when
   * `scope` is 'all' (or when placing weighs roles against each other), else those of `apps`,
   * of the kicked ids and the waiting ones.
   */
  instances: readonly Versioned<Instance>[];
  /** Running deployments in creation order, with their revisions. */
  deployments: readonly Versioned<Deployment>[];
  /** Every known agent (GROUP_BY reads their attributes on scale-down). */
  agents: readonly Agent[];
  /** Active agents with what is free on each (draining ones refuse with AgentMaintenance). */
  available: readonly Agent[];
  /** Agents in maintenance: their instances are replaced elsewhere (drain.ts). */
  draining?: ReadonlySet<string>;
  /** Apps in launch backoff: app id → epoch ms before which none of it launches. */
  backoff: ReadonlyMap<string, number>;
  /** Quota and weights per role, for DRF among waiting roles. */
  rolePolicies?: readonly RolePolicy[];
  algorithm?: 'binpack' | 'spread';
}

/**
 * A deploy whose intent is queued in the applier but not yet stored: a pass run in the same
 * turn reads the state as it will be once that intent applies, so its placements share the
 * deploy's write (evaluation-loop.ts `passAlong`). Its deployment has no revision yet (-1):
 * the pass places for it, and a later pass advances it.
 */
export interface PendingDeploy {
  apps: readonly AppDefinition[];
  removeApps: readonly string[];
  /** The deployment the deploy starts (absent when it finished in its own write). */
  deployment?: Deployment;
  /** Deployments the deploy replaces (forced). */
  removeDeployments: readonly string[];
}

/**
 * Takes the snapshot of a pass. With `scope` 'all' it copies every app and instance; a kicked
 * pass reads only the apps it may touch and their instances (from the applier's indexes), so a
 * status storm over 10,000 instances costs each pass its own apps, not the whole fleet.
 */
export function takeSnapshot(
  sources: { applier: Applier; agents: AgentBook; launchQueue: LaunchQueue },
  pass: {
    scope: readonly string[] | 'all';
    now: number;
    seed: string;
    algorithm?: 'binpack' | 'spread';
    pending?: PendingDeploy;
  },
): PassSnapshot {
  const { applier, agents, launchQueue } = sources;
  const { pending, ...fields } = pass;
  const replaced = new Set(pending?.removeDeployments);
  const deployments = applier.apps
    .deployments()
    .filter((deployment) => !replaced.has(deployment.id))
    .map((deployment) => ({
      value: deployment,
      revision: applier.apps.deploymentRevisionOf(deployment.id) ?? -1,
    }));
  if (pending?.deployment) deployments.push({ value: pending.deployment, revision: -1 });
  const rolePolicies = applier.roles.list();
  let apps: Map<string, AppDefinition>;
  let instances: Versioned<Instance>[];
  if (pass.scope === 'all') {
    apps = withPending(applier.apps.apps(), pending);
    instances = applier.instances.records();
  } else {
    // A kicked pass after one POST reads a few apps, not thousands (copying them all per POST
    // was a tenth of the CPU).
    apps = new Map();
    const waiting = applier.instances.waiting();
    const wanted = new Set([
      ...pass.scope,
      ...deployments.flatMap((d) => d.value.affectedApps),
      ...waiting.map((r) => r.value.appId),
    ]);
    for (const id of wanted) {
      const app = applier.apps.get(id);
      if (app) apps.set(id, app);
    }
    apps = withPending(apps, pending);
    // Placing among several roles (or under a quota) weighs every role's allocation: then the
    // scheduler reads every instance. Otherwise only those of the apps read (their own usage
    // decides their constraints) and the waiting ones.
    const isShared =
      rolePolicies.some((policy) => policy.quota !== undefined) ||
      new Set([...apps.values()].map((app) => roleOf(app))).size > 1;
    if (isShared) instances = applier.instances.records();
    else {
      instances = [];
      for (const id of wanted) instances.push(...applier.instances.recordsOfApp(id));
    }
  }
  const backoff = new Map<string, number>();
  for (const app of apps.values()) {
    const notBefore = launchQueue.notBefore(app);
    if (notBefore > 0) backoff.set(app.id, notBefore);
  }
  return {
    ...fields,
    apps,
    instances,
    deployments,
    agents: agents.list(),
    // Derived per agent from the applier's holdings index, again only for agents that moved.
    ...inMaintenance(agents.available(applier.instances), applier.drains.all()),
    backoff,
    rolePolicies,
  };
}

/** `apps` as they will be once `pending` applies (changed in place: the caller's own copy). */
function withPending(
  apps: Map<string, AppDefinition>,
  pending: PendingDeploy | undefined,
): Map<string, AppDefinition> {
  for (const id of pending?.removeApps ?? []) apps.delete(id);
  for (const app of pending?.apps ?? []) apps.set(app.id, app);
  return apps;
}
