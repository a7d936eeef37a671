// What the balancer believes about the cluster: the last snapshot of the apps, corrected by
// events that arrived since. Events only ever take backends out (a task that stops running, a
// health check that fails); only a snapshot re-read from the master puts them in, so an event
// that arrives out of order (BEHAVIOUR.md (f): ordering is not guaranteed) cannot revive a task.
import type { AppSnapshot, TaskSnapshot } from './app-snapshot.js';
import { buildRouteTable, type RouteTable } from './route-table.js';

/** Most tasks remembered as going away between two snapshots (a bound, not a real limit). */
const MAX_EXCLUDED = 100_000;

/** What happened to a task, from the event stream. */
export type TaskNews =
  { kind: 'stopping'; taskId: string; reason: string } | { kind: 'unhealthy'; instanceId: string };

export interface ClusterView {
  /** The table in use; replaced (never mutated) on every change. */
  table(): RouteTable;
  /** A fresh snapshot from the master: rebuilds the table. */
  applySnapshot(apps: AppSnapshot[]): void;
  /** News from the event stream: takes the task out of rotation at once. Idempotent. */
  applyNews(news: TaskNews): void;
  /** Called after every table change. */
  onChange(listener: (table: RouteTable) => void): void;
  /** Tasks currently excluded by events, with why (status page). */
  excluded(): { taskOrInstance: string; reason: string }[];
}

/** The instance id of a task id (`<app>.instance-<uuid>._app.<n>` → `<app>.instance-<uuid>`). */
export function instanceIdOf(taskId: string): string {
  const match = /^(.+\.(?:instance|marathon)-[^.]+)\./.exec(taskId);
  return match?.[1] ?? taskId;
}

export function createClusterView(options: {
  group: string;
  reservedPorts: Set<number>;
}): ClusterView {
  let apps: AppSnapshot[] = [];
  const stopping = new Map<string, string>();
  const unhealthy = new Set<string>();
  const listeners: ((table: RouteTable) => void)[] = [];
  let current: RouteTable = buildRouteTable({
    apps,
    group: options.group,
    isExcluded: () => false,
    reservedPorts: options.reservedPorts,
  });

  const isExcluded = (task: TaskSnapshot) =>
    stopping.has(task.id) || unhealthy.has(instanceIdOf(task.id));

  function rebuild(): void {
    current = buildRouteTable({
      apps,
      group: options.group,
      isExcluded,
      previousOwners: current.owners,
      reservedPorts: options.reservedPorts,
    });
    for (const listener of listeners) listener(current);
  }

  return {
    table: () => current,
    applySnapshot(next) {
      apps = next;
      // Forget what the master no longer lists: a gone task cannot come back under its id.
      const listed = new Set<string>();
      for (const app of next) for (const task of app.tasks) listed.add(task.id);
      for (const taskId of stopping.keys()) if (!listed.has(taskId)) stopping.delete(taskId);
      const instances = new Set([...listed].map(instanceIdOf));
      for (const id of unhealthy) if (!instances.has(id)) unhealthy.delete(id);
      // A snapshot newer than a failed check says alive: trust the snapshot for health, which
      // only a snapshot can restore (it carries every check's result).
      for (const app of next)
        for (const task of app.tasks)
          if (task.healthAlive.length > 0 && !task.healthAlive.includes(false))
            unhealthy.delete(instanceIdOf(task.id));
      rebuild();
    },
    applyNews(news) {
      if (stopping.size + unhealthy.size >= MAX_EXCLUDED) {
        stopping.clear();
        unhealthy.clear();
      }
      if (news.kind === 'stopping') {
        if (stopping.has(news.taskId)) return;
        stopping.set(news.taskId, news.reason);
      } else {
        if (unhealthy.has(news.instanceId)) return;
        unhealthy.add(news.instanceId);
      }
      rebuild();
    },
    onChange(listener) {
      listeners.push(listener);
    },
    excluded: () => [
      ...[...stopping].map(([taskOrInstance, reason]) => ({ taskOrInstance, reason })),
      ...[...unhealthy].map((taskOrInstance) => ({
        taskOrInstance,
        reason: 'health check failed',
      })),
    ],
  };
}
