// The read side of the API: one in-memory snapshot of apps, instances and deployments, shared
// by every read. On the leader it is taken from the leader's own state in memory (`LiveState`)
// and holds until that state changes, as Marathon serves reads from its instance tracker and
// group repository: no query, no reload while nothing changes, every write seen by the next read.
// Without it (tests of the API alone) it is loaded from the store: a write through the API drops
// it, an event or age beyond `ttlMs` makes it stale (the next read starts a reload and is served
// the new snapshot as soon as it is loaded).
import type { AppDefinition, Deployment, Instance, TaskFailure } from '../domain/index.js';
import type { Clock, Logger } from '../lib/index.js';
import type { Store } from '../store/store.js';
import type { EventHubPort, LiveState } from './ports.js';

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
  /**
   * A value derived from this snapshot, computed once (e.g. a rendered answer). An async
   * computation is shared while it runs; once it settles the value itself is returned, so a
   * caller can answer without waiting. A failed computation is forgotten (the next call retries).
   */
  memo<T>(key: string, compute: () => T | Promise<T>): T | Promise<T>;
  /** The value memoized under `key` once it has settled; undefined when none has (yet). */
  rendered(key: string): unknown;
}

export interface ReadModel {
  /** The current snapshot; loads a new one when stale. Concurrent callers share one load. */
  snapshot(): Promise<Snapshot>;
  /**
   * The snapshot a read may use without waiting (starting a reload when it is stale), or
   * undefined when the read must wait for `snapshot()`: a route answers from memory in the same
   * turn of the event loop, without a promise.
   */
  current(): Snapshot | undefined;
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
  return index({ apps, instances, deployments }, (appId) => store.apps.getLastTaskFailure(appId));
}

/** A snapshot of `state`, whose apps are ordered by id; failures are read with `readFailure`. */
function index(
  state: { apps: AppDefinition[]; instances: Instance[]; deployments: Deployment[] },
  readFailure: (appId: string) => Promise<TaskFailure | undefined>,
): Snapshot {
  const { apps, instances, deployments } = state;
  const deploymentIdsByApp = new Map<string, string[]>();
  for (const deployment of deployments) {
    for (const appId of deployment.affectedApps) {
      deploymentIdsByApp.set(appId, [...(deploymentIdsByApp.get(appId) ?? []), deployment.id]);
    }
  }
  const failures = new Map<string, Promise<TaskFailure | undefined>>();
  const memos = new Map<string, unknown>();
  return {
    memo<T>(key: string, compute: () => T | Promise<T>): T | Promise<T> {
      if (memos.has(key)) return memos.get(key) as T | Promise<T>;
      const value = compute();
      // Bounded: many distinct queries within one snapshot must not grow memory without end.
      if (memos.size >= MAX_MEMOS) return value;
      memos.set(key, value);
      if (value instanceof Promise) {
        // Only while this computation is still the one kept under `key`.
        value.then(
          (settled) => memos.get(key) === value && memos.set(key, settled),
          () => memos.get(key) === value && memos.delete(key),
        );
      }
      return value;
    },
    rendered(key) {
      const value = memos.get(key);
      return value instanceof Promise ? undefined : value;
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
        failure = readFailure(appId);
        failures.set(appId, failure);
      }
      return failure;
    },
  };
}

/** Ids in code point order: the same whatever collation the store's database uses. */
const byId = (a: AppDefinition, b: AppDefinition) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * A read model over `live` while it holds state, else over `store`. With `ttlMs` 0 every read
 * of the store loads fresh state (tests that write to the store directly). Every event on
 * `events` makes a store snapshot stale: status updates and deployment progress reach readers
 * after one reload.
 */
export function createReadModel(options: {
  store: Store;
  live?: LiveState;
  events: EventHubPort;
  clock: Clock;
  logger: Logger;
  ttlMs: number;
}): ReadModel {
  const { store, live, events, clock, logger, ttlMs } = options;
  /** The snapshot of `live`, and the revision it shows. */
  let held: { snapshot: Snapshot; revision: number } | undefined;
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

  function current(): Snapshot | undefined {
    const revision = live?.revision();
    if (live && revision !== undefined) {
      if (held?.revision !== revision) {
        const state = {
          apps: live.apps().sort(byId),
          instances: live.instances(),
          deployments: live.deployments(),
        };
        // The leader's memory holds the failures it wrote: no query for them either.
        const fromLive = live.lastTaskFailure?.bind(live);
        const readFailure = fromLive ?? ((appId: string) => store.apps.getLastTaskFailure(appId));
        held = { snapshot: index(state, readFailure), revision };
      }
      return held.snapshot;
    }
    if (ttlMs <= 0) return undefined;
    if (!subscribed) {
      subscribed = true;
      events
        .subscribe(() => void (isStale = true))
        .catch((error: unknown) => {
          logger.error({ err: error }, 'read model could not follow events; reads may lag');
        });
    }
    if (!served) return undefined;
    if (isStale || clock.now() - served.loadedAt >= ttlMs) {
      // Serve the current snapshot while the next one loads; readers after the load get it.
      reload().catch((error: unknown) => logger.warn({ err: error }, 'read model reload failed'));
    }
    return served.snapshot;
  }

  return {
    current,
    snapshot() {
      const ready = current();
      if (ready) return Promise.resolve(ready);
      return ttlMs <= 0 ? load(store) : reload();
    },
    invalidate() {
      // A snapshot of `live` needs no dropping: every write moves its revision.
      generation++;
      served = undefined;
      loading = undefined;
    },
  };
}
