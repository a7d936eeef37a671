// Decides, for one app, which instances to create, relaunch, stop and forget. The steady state
// is the scheduler's reconciler; this adds Marathon's rolling replacement of instances of an
// older config (restart, upgrade) under the upgrade strategy. Pure: the loop applies the result.
//
//   outdated instances (older config) ──► replaced rolling:
//     start new while new < instances and total < instances × (1 + maximumOverCapacity)
//     kill old while healthy(new) + old − 1 ≥ ⌈instances × minimumHealthCapacity⌉
import type { Agent, AppDefinition, Instance } from '../domain/index.js';
import { isTerminal } from '../domain/index.js';
import { reconcile } from '../scheduler/index.js';

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

/** Running, and healthy when the app has health checks. */
export function isReady(instance: Instance, app: AppDefinition): boolean {
  if (instance.condition !== 'Running') return false;
  if (app.healthChecks.length === 0) return true;
  return (
    instance.healthCheckResults.length > 0 && instance.healthCheckResults.every((h) => h.alive)
  );
}

export function reconcileApp(
  app: AppDefinition,
  instances: Instance[],
  context: { now: number; agents: readonly Agent[] },
): AppReconcileResult {
  const expunge = instances.filter(
    (i) => i.goal === 'Decommissioned' && (isTerminal(i.condition) || i.condition === 'Scheduled'),
  );
  const wanted = instances.filter((i) => i.goal === 'Running');
  const outdated = wanted.filter(
    (i) => !isUpToDate(i, app) && i.condition !== 'UnreachableInactive',
  );
  const steady = reconcile({
    app,
    instances: wanted.filter((i) => !outdated.includes(i)),
    now: context.now,
    agents: context.agents,
  });
  const fresh = wanted.filter((i) => isUpToDate(i, app) && i.condition !== 'UnreachableInactive');
  const relaunch = steady.relaunch;
  let create = steady.place;
  const stop: Instance[] = [...steady.stop];

  if (outdated.length > 0) {
    const target = app.instances;
    const counted = fresh.length + outdated.length;
    const maxTotal = Math.floor(target * (1 + app.upgradeStrategy.maximumOverCapacity));
    const minHealthy = Math.ceil(target * app.upgradeStrategy.minimumHealthCapacity);
    create = Math.max(0, Math.min(target - fresh.length, maxTotal - counted));
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
      }
    }
    // Neither starting nor stopping is allowed (e.g. 100% health, 0% over): go one over, as
    // Marathon does, rather than never finishing.
    const isNothingPending = fresh.every((i) => isReady(i, app));
    if (create === 0 && oldLeft === outdated.length && fresh.length < target && isNothingPending)
      create = 1;
  }

  const isConverged =
    outdated.length === 0 &&
    relaunch.length === 0 &&
    create === 0 &&
    stop.length === 0 &&
    fresh.length === app.instances &&
    fresh.every((i) => isReady(i, app)) &&
    instances.every(
      (i) => i.goal === 'Running' || isTerminal(i.condition) || i.condition === 'Scheduled',
    );
  return { create, relaunch, stop, expunge, isConverged };
}
