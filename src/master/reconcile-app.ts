// Decides, for one app, which instances to create, relaunch, stop and forget, honouring the
// upgrade strategy during a restart. Pure: the evaluation loop applies the result.
//
//   outdated instances (older config) ──► replaced rolling:
//     start new while new < instances and total < instances × (1 + maximumOverCapacity)
//     kill old while healthy(new) + old − 1 ≥ ⌈instances × minimumHealthCapacity⌉
import type { AppDefinition, Instance } from '../domain/index.js';
import { isTerminal } from '../domain/index.js';

export interface AppReconcileResult {
  /** How many new instances to create. */
  create: number;
  /** Ended instances whose goal is still Running: launch their next incarnation. */
  relaunch: Instance[];
  /** Instances to decommission and kill. */
  stop: Instance[];
  /** Decommissioned instances that have ended (or never ran): remove them. */
  expunge: Instance[];
  /** True when the app runs exactly as defined. */
  isConverged: boolean;
}

/** An instance launched at or after the app's last config change runs the current config. */
export function isUpToDate(instance: Instance, app: AppDefinition): boolean {
  return instance.appVersion >= app.versionInfo.lastConfigChangeAt;
}

/** Unreachable and lost first, then not yet running, then by `killSelection`. */
function stopOrder(app: AppDefinition): (a: Instance, b: Instance) => number {
  const rank = (i: Instance): number => {
    if (i.condition === 'Unreachable' || i.condition === 'UnreachableInactive') return 0;
    if (isTerminal(i.condition)) return 1;
    if (i.condition === 'Scheduled') return 2;
    if (i.condition !== 'Running') return 3;
    if (i.healthCheckResults.some((h) => !h.alive)) return 3;
    return 4;
  };
  const youngestFirst = app.killSelection !== 'OLDEST_FIRST';
  return (a, b) =>
    rank(a) - rank(b) ||
    (youngestFirst ? b.createdAt.localeCompare(a.createdAt) : a.createdAt.localeCompare(b.createdAt));
}

/** Running, and healthy when the app has health checks. */
export function isReady(instance: Instance, app: AppDefinition): boolean {
  if (instance.condition !== 'Running') return false;
  if (app.healthChecks.length === 0) return true;
  return (
    instance.healthCheckResults.length > 0 && instance.healthCheckResults.every((h) => h.alive)
  );
}

export function reconcileApp(app: AppDefinition, instances: Instance[]): AppReconcileResult {
  const expunge = instances.filter(
    (i) => i.goal === 'Decommissioned' && (isTerminal(i.condition) || i.condition === 'Scheduled'),
  );
  const wanted = instances.filter((i) => i.goal === 'Running');
  const relaunch = wanted.filter((i) => isTerminal(i.condition));
  // Inactive unreachable instances no longer count: a replacement is started beside them.
  const counted = wanted.filter((i) => i.condition !== 'UnreachableInactive');
  const fresh = counted.filter((i) => isUpToDate(i, app));
  const outdated = counted.filter((i) => !isUpToDate(i, app));
  const target = app.instances;
  const stop: Instance[] = [];
  let create = 0;

  if (outdated.length === 0) {
    if (fresh.length < target) create = target - fresh.length;
    else if (fresh.length > target) stop.push(...[...fresh].sort(stopOrder(app)).slice(0, fresh.length - target));
  } else {
    const maxTotal = Math.floor(target * (1 + app.upgradeStrategy.maximumOverCapacity));
    const minHealthy = Math.ceil(target * app.upgradeStrategy.minimumHealthCapacity);
    const freshReady = fresh.filter((i) => isReady(i, app)).length;
    create = Math.max(0, Math.min(target - fresh.length, maxTotal - counted.length));
    const oldByOrder = [...outdated].sort(stopOrder(app));
    let oldLeft = outdated.length;
    for (const old of oldByOrder) {
      const oldStillReady = isReady(old, app) ? 1 : 0;
      const readyAfter = freshReady + oldByOrder.filter((o) => isReady(o, app) && !stop.includes(o)).length - oldStillReady;
      // Surplus old instances (scale down during restart) go regardless of capacity.
      const isSurplus = oldLeft + fresh.length > target && fresh.length >= target;
      if (readyAfter >= minHealthy || isSurplus || !isReady(old, app)) {
        stop.push(old);
        oldLeft--;
      }
    }
    // Neither starting nor stopping is allowed (e.g. 100% health, 0% over): go one over, as
    // Marathon does, rather than never finishing.
    if (create === 0 && stop.length === 0 && fresh.length < target) create = 1;
  }

  const isConverged =
    outdated.length === 0 &&
    relaunch.length === 0 &&
    create === 0 &&
    stop.length === 0 &&
    fresh.length === target &&
    fresh.every((i) => isReady(i, app)) &&
    instances.every((i) => i.goal === 'Running' || isTerminal(i.condition) || i.condition === 'Scheduled');
  return { create, relaunch, stop, expunge, isConverged };
}
