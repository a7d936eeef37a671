// `GET /_pacer/lb/status`: the routes, their backends (with requests in flight), the conflicts
// and problems of the labels, and the event stream's state, as JSON.
import type { BackendPools } from './backend-pools.js';
import type { RouteTable } from './route-table.js';

export interface StatusInput {
  group: string;
  table: RouteTable;
  pools: BackendPools;
  excluded: { taskOrInstance: string; reason: string }[];
  listeners: { port: number; mode: string; appId?: string; error?: string }[];
  eventStream: { connected: boolean; connects: number; lastEventId?: number; lastSyncAt?: Date };
}

export function statusDocument(input: StatusInput): unknown {
  const { table, pools } = input;
  return {
    group: input.group,
    routes: table.routes.map((route) => ({
      appId: route.appId,
      mode: route.mode,
      servicePort: route.servicePort ?? null,
      vhosts: route.vhosts,
      path: route.pathPrefix,
      backends: route.backends.map((b) => ({
        taskId: b.taskId,
        host: b.host,
        port: b.port,
        inFlight: pools.inFlight(b.key),
        ejected: pools.isEjected(b.key),
      })),
    })),
    draining: pools.draining(),
    excluded: input.excluded,
    conflicts: table.conflicts,
    problems: table.problems,
    listeners: input.listeners,
    eventStream: {
      connected: input.eventStream.connected,
      connects: input.eventStream.connects,
      lastEventId: input.eventStream.lastEventId ?? null,
      lastSyncAt: input.eventStream.lastSyncAt?.toISOString() ?? null,
    },
  };
}
