// The leader's state as the API reads it: apps, deployments and instances from the applier's
// memory, under the one revision every applied intent moves. It fits the API's `LiveState` port
// (api/ports.ts) by shape, checked where cli/ wires them: master/ never imports api/.
import type { Applier } from './applier/index.js';

export function liveState(applier: Pick<Applier, 'apps' | 'instances'>) {
  return {
    revision: () => applier.apps.revision(),
    apps: () => [...applier.apps.apps().values()],
    deployments: () => applier.apps.deployments(),
    instances: () => applier.instances.all(),
    lastTaskFailure: (appId: string) => applier.apps.lastTaskFailure(appId),
    app: (id: string) => applier.apps.get(id),
    servicePortHolders: (port: number) => applier.apps.servicePortHolders(port),
    firstUnheldServicePort: (from: number) => applier.apps.firstUnheldServicePort(from),
    enforcingGroups: () => applier.apps.enforcingGroups(),
  };
}
