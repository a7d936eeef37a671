// The read side of the API: one in-memory snapshot of apps, instances and deployments, shared
// by every read. A write through the API drops it (the next read loads fresh state, so clients
// read their own writes); an event or age beyond `ttlMs` makes it stale (the next read starts a
// reload and is served the new snapshot as soon as it is loaded). Marathon serves reads from
// memory too; this keeps `GET /v2/apps/{id}` off the database under load.
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
  /** A value derived from this snapshot, computed once (e.g. a rendered list answer). */
  memo<T>(key: string, compute: () => T): T;
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

/** Derived values kept per snapshot, at most. */
const MAX_MEMOS = 256;

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
  const memos = new Map<string, unknown>();
  return {
    memo<T>(key: string, compute: () => T): T {
      if (memos.has(key)) return memos.get(key) as T;
      const value = compute();
      // Bounded: many distinct queries within one snapshot must not grow memory without end.
      if (memos.size < MAX_MEMOS) memos.set(key, value);
      return value;
    },
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
 * the store directly). Every event on `events` makes the snapshot stale: status updates and
 * deployment progress reach readers after one reload.
 */
export function createReadModel(options: {
  store: Store;
  events: EventHub;
  clock: Clock;
  logger: Logger;
  ttlMs: number;
}): ReadModel {
  const { store, events, clock, logger, ttlMs } = options;
  /** The snapshot readers get, and when it was loaded; undefined after a write. */
  let served: { snapshot: Snapshot; loadedAt: number } | undefined;
  /** A load under way; readers of a dropped snapshot wait for it. */
  let loading: Promise<Snapshot> | undefined;
  let isStale = false;
  let generation = 0;
  let subscribed = false;

  function reload(): Promise<Snapshot> {
    if (loading) return loading;
    const startedAt = clock.now();
    const startedGeneration = generation;
    isStale = false;
    const attempt = load(store).then(
      (snapshot) => {
        // A write during the load may be missing from it: keep it out of later reads.
        if (generation === startedGeneration) served = { snapshot, loadedAt: startedAt };
        return snapshot;
      },
      (error: unknown) => {
        isStale = true;
        throw error;
      },
    );
    loading = attempt.finally(() => {
      if (loading === guarded) loading = undefined;
    });
    const guarded = loading;
    return guarded;
  }

  return {
    async snapshot() {
      if (ttlMs <= 0) return load(store);
      if (!subscribed) {
        subscribed = true;
        events
          .subscribe(() => void (isStale = true))
          .catch((error: unknown) => {
            logger.error({ err: error }, 'read model could not follow events; reads may lag');
          });
      }
      if (!served) return reload();
      if (isStale || clock.now() - served.loadedAt >= ttlMs) {
        // Serve the current snapshot while the next one loads; readers after the load get it.
        reload().catch((error: unknown) => logger.warn({ err: error }, 'read model reload failed'));
      }
      return served.snapshot;
    },
    invalidate() {
      generation++;
      served = undefined;
      loading = undefined;
    },
  };
}
