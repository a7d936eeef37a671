// The leader's copy of every app and running deployment, in memory and written through to the
// store first (as the instance tracker is), so deploys check existence and locks, and the
// evaluation loop reads apps, without a query. Writes queued while one is stored go out
// together in the next transaction (group commit): PGlite has one connection, and on Postgres
// one commit instead of many.
import type { AppDefinition, Deployment } from '../domain/index.js';
import type { Store } from '../store/index.js';

/** One change to apps and deployments, stored atomically (alone or within a batch). */
export interface StateChange {
  /** Apps to store as current (and as a version of theirs). */
  apps?: AppDefinition[];
  /** Apps to delete, with their versions and last failure. */
  removeApps?: string[];
  /** Deployments to store as given (new ones). */
  deployments?: Deployment[];
  /**
   * Deployments a step further: stored only while they still exist when the change is written,
   * so a cancel committed first is never undone by the evaluation loop's progress.
   */
  progress?: Deployment[];
  /** Deployments to delete: finished or cancelled. */
  removeDeployments?: string[];
}

export interface AppCache {
  /**
   * Replaces the in-memory view with what the store holds (start of leadership, recovery).
   * Waits for the writes under way, so none is applied over the fresh view.
   */
  load(): Promise<void>;
  /** Drops the view (leadership lost): until the next `load`, every use throws. */
  forget(): void;
  /** A number that changes whenever the view does; undefined while there is none. */
  revision(): number | undefined;
  get(id: string): AppDefinition | undefined;
  /** Every app, keyed by id; a copy that later changes leave alone. */
  apps(): Map<string, AppDefinition>;
  /** Running deployments in creation order; a copy. */
  deployments(): Deployment[];
  deployment(id: string): Deployment | undefined;
  /**
   * Stores `change` in one transaction (shared with the changes queued meanwhile that touch
   * other keys), then applies it; changes are applied in the order they were committed. Rejects
   * with the store's error when `change` itself could not be stored, leaving the view as it was.
   */
  commit(change: StateChange): Promise<void>;
}

/** Changes per transaction at most: bounds the statement size and the wait of the last. */
const MAX_CHANGES_PER_WRITE = 256;

interface Queued {
  change: StateChange;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function keysOf(change: StateChange): string[] {
  return [
    ...(change.apps ?? []).map((app) => `app ${app.id}`),
    ...(change.removeApps ?? []).map((id) => `app ${id}`),
    ...(change.deployments ?? []).map((d) => `deployment ${d.id}`),
    ...(change.progress ?? []).map((d) => `deployment ${d.id}`),
    ...(change.removeDeployments ?? []).map((id) => `deployment ${id}`),
  ];
}

/**
 * The longest head of `queue` whose changes touch disjoint keys: within one transaction the
 * deletes run before the puts, which is their commit order only when no key is touched twice.
 */
function takeBatch(queue: Queued[]): Queued[] {
  const seen = new Set<string>();
  let count = 0;
  for (const queued of queue) {
    const keys = keysOf(queued.change);
    if (count >= MAX_CHANGES_PER_WRITE || (count > 0 && keys.some((key) => seen.has(key)))) break;
    for (const key of keys) seen.add(key);
    count++;
  }
  return queue.splice(0, count);
}

async function write(store: Store, changes: StateChange[]): Promise<void> {
  const removeDeployments = changes.flatMap((c) => c.removeDeployments ?? []);
  const removeApps = changes.flatMap((c) => c.removeApps ?? []);
  const apps = changes.flatMap((c) => c.apps ?? []);
  const deployments = changes.flatMap((c) => c.deployments ?? []);
  const statements = async (db: Store) => {
    await db.deployments.deleteMany(removeDeployments);
    for (const id of removeApps) await db.apps.delete(id);
    await db.apps.putMany(apps);
    await db.deployments.putMany(deployments);
  };
  // Deployment progress alone is one statement, atomic by itself: no BEGIN and COMMIT around it.
  const isOneStatement =
    removeApps.length === 0 &&
    apps.length === 0 &&
    (removeDeployments.length === 0 || deployments.length === 0);
  await (isOneStatement ? statements(store) : store.transaction(statements));
}

export function createAppCache(options: { store: Store }): AppCache {
  const { store } = options;
  let apps: Map<string, AppDefinition> | undefined;
  let deployments: Map<string, Deployment> | undefined;
  let revision = 0;
  const queue: Queued[] = [];
  let writer: Promise<void> | undefined;
  /** A load under way: writes wait for it, or a change stored after its read would be lost. */
  let loading: Promise<void> | undefined;

  function loaded() {
    if (!apps || !deployments) throw new Error('App cache used before it was loaded');
    return { apps, deployments };
  }

  function apply(change: StateChange): void {
    // Forgotten (leadership lost) while being stored: the next leader reads it from the store.
    const view = apps && deployments ? { apps, deployments } : undefined;
    if (!view) return;
    for (const id of change.removeDeployments ?? []) view.deployments.delete(id);
    for (const id of change.removeApps ?? []) view.apps.delete(id);
    for (const app of change.apps ?? []) view.apps.set(app.id, app);
    for (const d of change.deployments ?? []) view.deployments.set(d.id, d);
    revision++;
  }

  /** `change` as it can be written now: progress of a deployment gone since is dropped. */
  function settle(change: StateChange): StateChange {
    if (!change.progress) return change;
    const live = change.progress.filter((d) => deployments?.has(d.id) === true);
    const { progress: _progress, ...rest } = change;
    return { ...rest, deployments: [...(change.deployments ?? []), ...live] };
  }

  async function drain(): Promise<void> {
    // One turn of the event loop first: the requests read from the sockets in this turn queue
    // their changes too, and share the transaction. On Postgres more queue while one is stored;
    // PGlite runs its queries on this thread, so without the wait most batches held one.
    await new Promise((resolve) => setImmediate(resolve));
    while (queue.length > 0) {
      while (loading) await loading.catch(() => undefined);
      // Earlier batches are applied by now, so the view tells which deployments still exist.
      const batch = takeBatch(queue).map((queued) => ({
        ...queued,
        change: settle(queued.change),
      }));
      try {
        await write(
          store,
          batch.map((q) => q.change),
        );
      } catch (error) {
        if (batch.length === 1) {
          batch[0]?.reject(error);
          continue;
        }
        // One bad change must not fail the others: each again, alone, answering for itself.
        for (const queued of batch) {
          try {
            await write(store, [queued.change]);
            apply(queued.change);
            queued.resolve();
          } catch (alone) {
            queued.reject(alone);
          }
        }
        continue;
      }
      for (const queued of batch) {
        apply(queued.change);
        queued.resolve();
      }
    }
    writer = undefined;
  }

  return {
    async load() {
      while (loading ?? writer) await (loading ?? writer);
      loading = (async () => {
        const [storedApps, storedDeployments] = await Promise.all([
          store.apps.list(),
          store.deployments.list(),
        ]);
        apps = new Map(storedApps.map((app) => [app.id, app]));
        deployments = new Map(storedDeployments.map((d) => [d.id, d]));
        revision++;
      })();
      try {
        await loading;
      } finally {
        loading = undefined;
      }
    },
    forget() {
      apps = undefined;
      deployments = undefined;
    },
    revision: () => (apps ? revision : undefined),
    get(id) {
      // On every lookup of the evaluation loop: no allocation here.
      if (!apps) loaded();
      return apps?.get(id);
    },
    apps: () => new Map(loaded().apps),
    deployments: () => [...loaded().deployments.values()],
    deployment: (id) => loaded().deployments.get(id),
    commit(change) {
      loaded();
      return new Promise<void>((resolve, reject) => {
        queue.push({ change, resolve, reject });
        writer ??= drain();
      });
    },
  };
}
