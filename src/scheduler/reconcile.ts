// The reconciler: one app's wanted count and its instances in, buckets out (Nomad's shape,
// Marathon's rules of BEHAVIOUR.md (h)). It only classifies; placing is the pipeline's job.
import type { Agent, AppDefinition, Instance } from '../domain/index.js';
import { isTerminal } from '../domain/index.js';
import { agentFieldValue, isHostnameField } from './agent-field.js';

/** What the reconciler looks at. */
export interface ReconcileInput {
  app: AppDefinition;
  /** The app's instances (any condition, any goal). */
  instances: readonly Instance[];
  /** epoch ms */
  now: number;
  /** Agents, to read the attributes GROUP_BY balances on when scaling down (optional). */
  agents?: readonly Agent[];
}

/**
 * Every given instance is in exactly one of `stop`, `relaunch` and `ignore`.
 *
 * ```
 *  goal Running ──┬─ terminal, backoff passed ─────────────► relaunch (same id, next incarnation)
 *                 ├─ terminal, in backoff ─────────────────► ignore (counted)
 *                 ├─ Unreachable past inactiveAfterSeconds ─► ignore (not counted → replaced)
 *                 ├─ unreachable past expungeAfterSeconds ──► stop (expunge)
 *                 └─ otherwise ─────────────────────────────► ignore (counted)
 *  counted > instances ─► the surplus moves to stop, in kill order
 *  counted < instances ─► place = the shortfall (new instance ids)
 *  goal Stopped / Decommissioned ──────────────────────────► ignore (already on its way out)
 * ```
 */
export interface ReconcileResult {
  /** New instances to create and place. */
  place: number;
  /** Instances to kill and decommission, in the order to kill them. */
  stop: Instance[];
  /** Instances whose task ended but are still wanted: launch their next incarnation. */
  relaunch: Instance[];
  /** Instances to leave as they are. */
  ignore: Instance[];
}

/**
 * Classifies an app's instances. Counted toward `instances` are those with goal Running that are
 * not (effectively) UnreachableInactive, including Scheduled ones and ended ones awaiting
 * relaunch. On scale-down the kill order is Marathon's: not running at all first (Scheduled,
 * ended), then unreachable, unhealthy, staging, starting, the rest; ties by `killSelection`,
 * and within a tier GROUP_BY constraints take from their biggest group first.
 */
export function reconcile(input: ReconcileInput): ReconcileResult {
  const { app, now } = input;
  const counted: Instance[] = [];
  const stop: Instance[] = [];
  const uncounted: Instance[] = [];
  for (const instance of input.instances) {
    if (instance.goal !== 'Running') uncounted.push(instance);
    else if (isExpunged(instance, app, now)) stop.push(instance);
    else if (isInactive(instance, app, now)) uncounted.push(instance);
    else counted.push(instance);
  }

  const surplus = counted.length - app.instances;
  const killed = new Set(surplus > 0 ? killOrder(counted, surplus, input) : []);
  // Scaling to zero also ends the inactive ones still waiting for their agent.
  if (app.instances === 0) {
    for (const instance of uncounted) if (instance.goal === 'Running') killed.add(instance);
  }
  stop.push(...[...killed].filter((instance) => !stop.includes(instance)));

  const relaunch: Instance[] = [];
  const ignore: Instance[] = [];
  for (const instance of [...counted, ...uncounted]) {
    if (killed.has(instance)) continue;
    const due = instance.goal === 'Running' && isTerminal(instance.condition);
    if (due && instance.launchNotBefore <= now) relaunch.push(instance);
    else ignore.push(instance);
  }
  return { place: Math.max(0, -surplus), stop, relaunch, ignore };
}

/** Unreachable long enough to stop counting (a replacement is placed); the instance stays. */
function isInactive(instance: Instance, app: AppDefinition, now: number): boolean {
  if (instance.condition === 'UnreachableInactive') return true;
  if (instance.condition !== 'Unreachable' || app.unreachableStrategy === 'disabled') return false;
  const since = Date.parse(instance.conditionChangedAt);
  return now >= since + app.unreachableStrategy.inactiveAfterSeconds * 1000;
}

/**
 * Unreachable past `expungeAfterSeconds`: removed for good (killed if it ever comes back).
 * An UnreachableInactive instance changed condition `inactiveAfterSeconds` after it became
 * unreachable, so its deadline counts from then.
 */
function isExpunged(instance: Instance, app: AppDefinition, now: number): boolean {
  const strategy = app.unreachableStrategy;
  if (strategy === 'disabled') return false;
  const since = Date.parse(instance.conditionChangedAt);
  if (instance.condition === 'Unreachable')
    return now >= since + strategy.expungeAfterSeconds * 1000;
  if (instance.condition === 'UnreachableInactive') {
    const left = Math.max(0, strategy.expungeAfterSeconds - strategy.inactiveAfterSeconds);
    return now >= since + left * 1000;
  }
  return false;
}

/** Lower goes first (Marathon's `ScalingProposition.sortByConditionAndDate`). */
function killTier(instance: Instance): number {
  const condition = instance.condition;
  if (condition === 'Scheduled' || isTerminal(condition)) return 0;
  if (condition === 'Unreachable' || condition === 'UnreachableInactive') return 1;
  if (instance.healthCheckResults.some((result) => !result.alive)) return 2;
  if (condition === 'Provisioned' || condition === 'Staging') return 3;
  if (condition === 'Starting') return 4;
  return 5;
}

function killOrder(candidates: Instance[], count: number, input: ReconcileInput): Instance[] {
  const youngestFirst = input.app.killSelection === 'YOUNGEST_FIRST';
  const since = (i: Instance) => Date.parse(i.startedAt ?? i.stagedAt ?? i.createdAt);
  const sorted = [...candidates].sort((a, b) => {
    const tier = killTier(a) - killTier(b);
    if (tier !== 0) return tier;
    const age = youngestFirst ? since(b) - since(a) : since(a) - since(b);
    if (age !== 0) return age;
    return a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0;
  });
  const groupFields = input.app.constraints
    .filter(([, operator]) => operator.toUpperCase() === 'GROUP_BY')
    .map(([field]) => field);
  if (groupFields.length === 0) return sorted.slice(0, count);

  const agents = new Map((input.agents ?? []).map((agent) => [agent.agentId, agent]));
  const valueOf = (instance: Instance, field: string): string | undefined => {
    const agent = instance.agentId === undefined ? undefined : agents.get(instance.agentId);
    if (agent) return agentFieldValue(agent, field);
    return isHostnameField(field) ? instance.host : undefined;
  };
  const left = [...sorted];
  const killed: Instance[] = [];
  while (killed.length < count) {
    const pick = pickFromBiggestGroup(left, groupFields, valueOf);
    killed.push(pick);
    left.splice(left.indexOf(pick), 1);
  }
  return killed;
}

/**
 * Among the instances of the first kill tier left, the first one sitting in the biggest group
 * of some GROUP_BY field (Marathon's `selectInstancesToKill`): killing there keeps the groups
 * even. `left` is in kill order and not empty.
 */
function pickFromBiggestGroup(
  left: Instance[],
  fields: string[],
  valueOf: (instance: Instance, field: string) => string | undefined,
): Instance {
  const first = left[0] as Instance;
  const tier = killTier(first);
  let best = first;
  let bestSize = -1;
  for (const field of fields) {
    const sizes = new Map<string | undefined, number>();
    for (const instance of left) {
      const value = valueOf(instance, field);
      sizes.set(value, (sizes.get(value) ?? 0) + 1);
    }
    for (const instance of left) {
      if (killTier(instance) !== tier) continue;
      const size = sizes.get(valueOf(instance, field)) ?? 0;
      if (size > bestSize) {
        best = instance;
        bestSize = size;
      }
    }
  }
  return best;
}
