// The reconciler, the only one: one app's wanted count and its instances in, buckets out
// (Nomad's shape, Marathon's rules of BEHAVIOUR.md (h)), with Marathon's rolling replacement
// of instances of an older config under the upgrade strategy. It only classifies; placing is
// the pipeline's job.
//
//   outdated instances (older config) ──► replaced rolling:
//     start new while new < instances and total < instances × (1 + maximumOverCapacity)
//     kill old while healthy(new) + old − 1 ≥ ⌈instances × minimumHealthCapacity⌉
import type { Agent, AppDefinition, Instance } from '../domain/index.js';
import { isTerminal } from '../domain/index.js';
import { killOrder } from './kill-order.js';

/** What the reconciler looks at. */
export interface ReconcileInput {
  app: AppDefinition;
  /** The app's instances (any condition, any goal). */
  instances: readonly Instance[];
  /** epoch ms */
  now: number;
  /** Agents, to read the attributes GROUP_BY balances on when scaling down (optional). */
  agents?: readonly Agent[];
  /**
   * Agents in maintenance (drain): instances on them are replaced rolling under the app's
   * upgrade strategy, as instances of an older config are (start elsewhere, then kill).
   */
  draining?: ReadonlySet<string>;
}

/**
 * Every given instance is in exactly one of `stop`, `relaunch`, `expunge` and `ignore`.
 *
 * ```
 *  goal Running ──┬─ terminal, backoff passed ─────────────► relaunch (same id, next incarnation)
 *                 ├─ terminal, in backoff ─────────────────► ignore (counted)
 *                 ├─ Unreachable past inactiveAfterSeconds ─► ignore (not counted → replaced)
 *                 ├─ unreachable past expungeAfterSeconds ──► stop (expunge)
 *                 └─ otherwise ─────────────────────────────► ignore (counted)
 *  counted > instances ─► the surplus moves to stop, in kill order
 *  counted < instances ─► place = the shortfall (new instance ids)
 *  goal Stopped / Decommissioned ──┬─ ended, or never placed ─► expunge
 *                                 └─ otherwise ─────────────► ignore (already on its way out)
 *  goal Running, older config ─────► rolling replacement (above): stop, or ignore for now
 * ```
 */
export interface ReconcileResult {
  /** New instances to create and place. */
  place: number;
  /** Instances to kill and decommission, in the order to kill them. */
  stop: Instance[];
  /** Instances whose task ended but are still wanted: launch their next incarnation. */
  relaunch: Instance[];
  /** Decommissioned instances that have ended (or never ran): forget them. */
  expunge: Instance[];
  /** Instances to leave as they are. */
  ignore: Instance[];
  /** True when the app runs exactly as defined: a deployment step waiting on it is done. */
  isConverged: boolean;
}

/** An instance launched at or after the app's last config change runs the current config. */
export function isUpToDate(instance: Instance, app: AppDefinition): boolean {
  return instance.appVersion >= app.versionInfo.lastConfigChangeAt;
}

/** Placed on an agent in maintenance (drain), so to be replaced elsewhere. */
function isOnDrainingAgent(instance: Instance, draining: ReadonlySet<string> | undefined): boolean {
  return draining !== undefined && instance.agentId !== undefined && draining.has(instance.agentId);
}

/**
 * Running, ready when the app has readiness checks (a deployment step waits for them, as
 * Marathon's does), and healthy when it has health checks.
 */
export function isReady(instance: Instance, app: AppDefinition): boolean {
  if (instance.condition !== 'Running') return false;
  if (app.readinessChecks.length > 0) {
    const results = instance.readinessCheckResults ?? [];
    if (results.length === 0 || !results.every((r) => r.ready)) return false;
  }
  if (app.healthChecks.length === 0) return true;
  return (
    instance.healthCheckResults.length > 0 && instance.healthCheckResults.every((h) => h.alive)
  );
}

/**
 * Classifies an app's instances: decommissioned ones that ended are expunged, instances of an
 * older config are replaced rolling, the rest follow the steady state (`reconcileSteady`).
 */
export function reconcile(input: ReconcileInput): ReconcileResult {
  const { app } = input;
  if (!isSteady(input)) return reconcileAny(input);
  // What `reconcileAny` answers for it, without its dozen arrays: the timer's pass reconciles
  // every app each second, and most apps are like this between changes.
  return {
    place: 0,
    stop: [],
    relaunch: [],
    expunge: [],
    ignore: [...input.instances],
    isConverged: input.instances.every((instance) => isReady(instance, app)),
  };
}

/** `reconcile` for any input (exported for the test holding its fast path to this). */
export function reconcileAny(input: ReconcileInput): ReconcileResult {
  const { app } = input;
  const expunge: Instance[] = [];
  const outdated: Instance[] = [];
  const rest: Instance[] = [];
  for (const instance of input.instances) {
    if (
      instance.goal === 'Decommissioned' &&
      (isTerminal(instance.condition) || instance.condition === 'Scheduled')
    )
      expunge.push(instance);
    else if (
      instance.goal === 'Running' &&
      (!isUpToDate(instance, app) || isOnDrainingAgent(instance, input.draining)) &&
      instance.condition !== 'UnreachableInactive'
    )
      outdated.push(instance);
    else rest.push(instance);
  }
  const steady = reconcileSteady({ ...input, instances: rest });
  const fresh = rest.filter((i) => i.goal === 'Running' && i.condition !== 'UnreachableInactive');
  let place = steady.place;
  const stop: Instance[] = [...steady.stop];
  const ignore: Instance[] = [...steady.ignore];

  if (outdated.length > 0) {
    const target = app.instances;
    const counted = fresh.length + outdated.length;
    const maxTotal = Math.floor(target * (1 + app.upgradeStrategy.maximumOverCapacity));
    const minHealthy = Math.ceil(target * app.upgradeStrategy.minimumHealthCapacity);
    place = Math.max(0, Math.min(target - fresh.length, maxTotal - counted));
    let ready =
      fresh.filter((i) => isReady(i, app)).length + outdated.filter((i) => isReady(i, app)).length;
    let oldLeft = outdated.length;
    // Old instances that are not serving go first; the rest only while capacity allows.
    for (const old of [...outdated].sort(
      (a, b) => Number(isReady(a, app)) - Number(isReady(b, app)),
    )) {
      if (!isReady(old, app) || ready - 1 >= minHealthy) {
        stop.push(old);
        if (isReady(old, app)) ready--;
        oldLeft--;
      } else ignore.push(old);
    }
    // Neither starting nor stopping is allowed (e.g. 100% health, 0% over): go one over, as
    // Marathon does, rather than never finishing.
    const isNothingPending = fresh.every((i) => isReady(i, app));
    if (place === 0 && oldLeft === outdated.length && fresh.length < target && isNothingPending)
      place = 1;
  }

  const isConverged =
    outdated.length === 0 &&
    steady.relaunch.length === 0 &&
    place === 0 &&
    stop.length === 0 &&
    fresh.length === app.instances &&
    fresh.every((i) => isReady(i, app)) &&
    input.instances.every(
      (i) => i.goal === 'Running' || isTerminal(i.condition) || i.condition === 'Scheduled',
    );
  return { place, stop, relaunch: steady.relaunch, expunge, ignore, isConverged };
}

/**
 * As many instances as wanted, each wanted, running, of the current config and on an agent not
 * in maintenance (an app of 0 instances with none qualifies): nothing to place, stop, relaunch
 * or expunge.
 */
function isSteady(input: ReconcileInput): boolean {
  const { app } = input;
  if (input.instances.length !== app.instances) return false;
  for (const instance of input.instances) {
    if (instance.goal !== 'Running' || instance.condition !== 'Running') return false;
    if (!isUpToDate(instance, app) || isOnDrainingAgent(instance, input.draining)) return false;
  }
  return true;
}

/**
 * The steady state (every instance of the current config). Counted toward `instances` are those with goal Running that are
 * not (effectively) UnreachableInactive, including Scheduled ones and ended ones awaiting
 * relaunch. On scale-down the kill order is Marathon's: not running at all first (Scheduled,
 * ended), then unreachable, unhealthy, staging, starting, the rest; ties by `killSelection`,
 * and within a tier GROUP_BY constraints take from their biggest group first.
 */
function reconcileSteady(
  input: ReconcileInput,
): Pick<ReconcileResult, 'place' | 'stop' | 'relaunch' | 'ignore'> {
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
