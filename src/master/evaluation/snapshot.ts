// What one pass decides from: the leader's state at one moment, with the revisions its intents
// name, the pass's clock reading and seed. Plain data: a pass replays from it exactly.
import type { Agent, AppDefinition, Deployment, Instance, RolePolicy } from '../../domain/index.js';
import { isTerminal } from '../../domain/index.js';
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
  /** Every instance, with the revision an intent about it names. */
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

/** Takes the snapshot of a pass; `scope` 'all' copies every app, a kick reads only its own. */
export function takeSnapshot(
  sources: { applier: Applier; agents: AgentBook; launchQueue: LaunchQueue },
  pass: {
    scope: readonly string[] | 'all';
    now: number;
    seed: string;
    algorithm?: 'binpack' | 'spread';
  },
): PassSnapshot {
  const { applier, agents, launchQueue } = sources;
  const deployments = applier.apps.deployments().map((deployment) => ({
    value: deployment,
    revision: applier.apps.deploymentRevisionOf(deployment.id) ?? -1,
  }));
  const instances = applier.instances.records();
  let apps: Map<string, AppDefinition>;
  if (pass.scope === 'all') apps = applier.apps.apps();
  else {
    // A kicked pass after one POST reads a few apps, not thousands (copying them all per POST
    // was a tenth of the CPU).
    apps = new Map();
    const wanted = new Set([
      ...pass.scope,
      ...deployments.flatMap((d) => d.value.affectedApps),
      ...instances.filter((r) => r.value.condition === 'Scheduled').map((r) => r.value.appId),
    ]);
    for (const id of wanted) {
      const app = applier.apps.get(id);
      if (app) apps.set(id, app);
    }
  }
  const backoff = new Map<string, number>();
  for (const app of apps.values()) {
    const notBefore = launchQueue.notBefore(app);
    if (notBefore > 0) backoff.set(app.id, notBefore);
  }
  const active = instances
    .map((r) => r.value)
    .filter((i) => !isTerminal(i.condition) && i.condition !== 'Scheduled');
  return {
    ...pass,
    apps,
    instances,
    deployments,
    agents: agents.list(),
    ...inMaintenance(agents.available(active), applier.drains.all()),
    backoff,
    rolePolicies: applier.roles.list(),
  };
}
