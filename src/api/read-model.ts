// The read side of the API: one in-memory snapshot of apps, instances and deployments, shared
// by every read until it is older than `ttlMs`, a write goes through the API, or any event
// arrives. Marathon serves reads from memory too; this keeps `GET /v2/apps/{id}` off the
// database under load while a client still reads its own writes at once.
import type { AppDefinition, Deployment, Instance, TaskFailure } from '../domain/index.js';
import type { Clock, Logger } from '../lib/index.js';
import type { EventHub } from '../master/services.js';
import type { Store } from '../store/store.js';

/** State as of one moment, indexed the ways the routes read it. */
export interface Snapshot {
  /** Every app, ordered by id. */
  apps: AppDefinition[];
  appById: Map<string, AppDefinition>;
  instances: Instance[];
  instancesByApp: Map<string, Instance[]>;
  deployments: Deployment[];
  deploymentIdsByApp: Map<string, string[]>;
  /** The latest failed task of an app (read once per snapshot, on demand). */
  lastTaskFailure(appId: string): Promise<TaskFailure | undefined>;
}

export interface ReadModel {
  /** The current snapshot; loads a new one when stale. Concurrent callers share one load. */
  snapshot(): Promise<Snapshot>;
  /** Drops the snapshot, so the next read sees every write made so far. Idempotent. */
  invalidate(): void;
}

function byKey<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const list = map.get(key(item));
    if (list) list.push(item);
    else map.set(key(item), [item]);
  }
  return map;
}

async function load(store: Store): Promise<Snapshot> {
  const [apps, instances, deployments] = await Promise.all([
    store.apps.list(),
    store.instances.list(),
    store.deployments.list(),
  ]);
  const deploymentIdsByApp = new Map<string, string[]>();
  for (const deployment of deployments) {
    for (const appId of deployment.affectedApps) {
      deploymentIdsByApp.set(appId, [...(deploymentIdsByApp.get(appId) ?? []), deployment.id]);
    }
  }
  const failures = new Map<string, Promise<TaskFailure | undefined>>();
  return {
    apps,
    appById: new Map(apps.map((app) => [app.id, app])),
    instances,
    instancesByApp: byKey(instances, (i) => i.appId),
    deployments,
    deploymentIdsByApp,
    lastTaskFailure(appId) {
      let failure = failures.get(appId);
      if (!failure) {
        failure = store.apps.getLastTaskFailure(appId);
        failures.set(appId, failure);
      }
      return failure;
    },
  };
}

/**
 * A read model over `store`. With `ttlMs` 0 every read loads fresh state (tests that write to
 * the store directly). Any event on `events` invalidates the snapshot: status updates and
 * deployment progress are seen by the next read.
 */
export function createReadModel(options: {
  store: Store;
  events: EventHub;
  clock: Clock;
  logger: Logger;
  ttlMs: number;
}): ReadModel {
  const { store, events, clock, logger, ttlMs } = options;
  let current: { loadedAt: number; snapshot: Promise<Snapshot>; generation: number } | undefined;
  let generation = 0;
  let subscribed: Promise<unknown> | undefined;

  const invalidate = () => {
    generation++;
    current = undefined;
  };

  return {
    snapshot() {
      if (ttlMs > 0 && !subscribed) {
        subscribed = events
          .subscribe(() => invalidate())
          .catch((error: unknown) => {
            logger.error({ err: error }, 'read model could not follow events; reads may lag');
          });
      }
      const now = clock.now();
      if (current && current.generation === generation && now - current.loadedAt < ttlMs) {
        return current.snapshot;
      }
      const snapshot = load(store);
      const entry = { loadedAt: now, snapshot, generation };
      current = entry;
      // A failed load must not be served to later readers.
      snapshot.catch(() => {
        if (current === entry) current = undefined;
      });
      return snapshot;
    },
    invalidate,
  };
}
