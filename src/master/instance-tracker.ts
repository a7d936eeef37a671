// Marathon's instance tracker: the latest state of every instance, in memory on the leader and
// written through to the store before a change counts, so a restarted master loses nothing.
import type { Instance } from '../domain/index.js';
import { currentTaskId } from '../domain/index.js';
import type { Store } from '../store/index.js';

export interface InstanceTracker {
  /** Replaces the in-memory view with what the store holds (start of leadership). */
  load(): Promise<void>;
  all(): Instance[];
  byApp(appId: string): Instance[];
  get(instanceId: string): Instance | undefined;
  /** The instance whose current task has this id. */
  byTaskId(taskId: string): Instance | undefined;
  /** Persists, then applies. Idempotent. */
  put(instances: Instance[]): Promise<void>;
  /** Deletes from the store, then forgets. Idempotent. */
  remove(instanceIds: string[]): Promise<void>;
  /** A number that changes whenever the view does. */
  revision(): number;
}

export function createInstanceTracker(options: { store: Store }): InstanceTracker {
  const { store } = options;
  const instances = new Map<string, Instance>();
  const byApp = new Map<string, Map<string, Instance>>();
  let revision = 0;

  function remember(instance: Instance): void {
    revision++;
    instances.set(instance.instanceId, instance);
    let forApp = byApp.get(instance.appId);
    if (!forApp) byApp.set(instance.appId, (forApp = new Map<string, Instance>()));
    forApp.set(instance.instanceId, instance);
  }

  function forget(instanceId: string): void {
    const instance = instances.get(instanceId);
    if (!instance) return;
    revision++;
    instances.delete(instanceId);
    const forApp = byApp.get(instance.appId);
    forApp?.delete(instanceId);
    if (forApp?.size === 0) byApp.delete(instance.appId);
  }

  return {
    async load() {
      instances.clear();
      byApp.clear();
      revision++;
      for (const instance of await store.instances.list()) remember(instance);
    },
    revision: () => revision,
    all: () => [...instances.values()],
    byApp: (appId) => [...(byApp.get(appId)?.values() ?? [])],
    get: (instanceId) => instances.get(instanceId),
    byTaskId(taskId) {
      const instanceId = taskId.replace(/\._app\.\d+$/, '');
      const instance = instances.get(instanceId);
      return instance && currentTaskId(instance) === taskId ? instance : undefined;
    },
    async put(changed) {
      if (changed.length === 0) return;
      await store.instances.putMany(changed);
      for (const instance of changed) remember(instance);
    },
    async remove(instanceIds) {
      for (const instanceId of instanceIds) {
        await store.instances.delete(instanceId);
        forget(instanceId);
      }
    },
  };
}
