// The leader's state as the API reads it: apps and deployments from the app cache, instances
// from the instance tracker, under one revision that changes when either does. It fits the API's
// `LiveState` port (api/ports.ts) by shape, checked where cli/ wires them: master/ never imports api/.
import type { AppCache } from './app-cache.js';
import type { InstanceTracker } from './instance-tracker.js';

export function liveState(cache: AppCache, tracker: InstanceTracker) {
  return {
    revision() {
      // Both only grow, so their sum changes whenever one does.
      const apps = cache.revision();
      return apps === undefined ? undefined : apps + tracker.revision();
    },
    apps: () => [...cache.apps().values()],
    deployments: () => cache.deployments(),
    instances: () => tracker.all(),
  };
}
