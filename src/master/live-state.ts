// The leader's state as the API reads it: apps, deployments and instances from the applier's
// memory, under the one revision every applied intent moves.
import type { LiveState } from '../api/read-model.js';
import type { Applier } from './applier/index.js';

export function liveState(applier: Pick<Applier, 'apps' | 'instances'>): LiveState {
  return {
    revision: () => applier.apps.revision(),
    apps: () => [...applier.apps.apps().values()],
    deployments: () => applier.apps.deployments(),
    instances: () => applier.instances.all(),
    lastTaskFailure: (appId) => applier.apps.lastTaskFailure(appId),
  };
}
