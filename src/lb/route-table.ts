// The routing table, built purely from the apps the master reported: which app answers a Host
// and path, which app owns a service port, and the backends (serving tasks) of each. Claims two
// apps make on the same host+path or port go to one of them by a fixed rule (README: precedence).
import type { AppSnapshot, TaskSnapshot } from './app-snapshot.js';
import { isServing } from './app-snapshot.js';
import type { RouteMode } from './labels.js';
import { isInGroup, readLabels } from './labels.js';

/** One task that takes traffic: where to connect. */
export interface Backend {
  /** `host:port`: the identity of its connection pool. */
  key: string;
  taskId: string;
  appId: string;
  host: string;
  port: number;
}

/** What the balancer does for one app. */
export interface AppRoute {
  appId: string;
  mode: RouteMode;
  /** The service port it listens on for this app; undefined when the app has none or lost it. */
  servicePort?: number;
  /** Host names it answers on the vhost listener (http mode only). */
  vhosts: string[];
  pathPrefix: string;
  backends: Backend[];
}

/** A claim an app lost to another. */
export interface Conflict {
  claim: string;
  winner: string;
  loser: string;
}

export interface RouteTable {
  routes: AppRoute[];
  /** The route for a request to `host` (normalised) and `path` on the vhost listener. */
  matchVhost(host: string, path: string): AppRoute | undefined;
  /** The route owning service port `port`. */
  matchServicePort(port: number): AppRoute | undefined;
  /** Owners of claims, `vhost <host> <path>` / `port <n>` → app id (for the next build). */
  owners: Map<string, string>;
  conflicts: Conflict[];
  /** Apps of the group that are (partly) not routed, with the reason. */
  problems: { appId: string; problems: string[] }[];
}

export interface BuildOptions {
  apps: AppSnapshot[];
  group: string;
  /** True for a task the balancer knows to be going away, whatever the snapshot says. */
  isExcluded(task: TaskSnapshot): boolean;
  /** Owners in the table in use: an incumbent keeps its claim (a newcomer cannot take a host). */
  previousOwners?: Map<string, string>;
  /** Ports the balancer may not listen on for an app (its own `--port`). */
  reservedPorts?: Set<number>;
}

interface Claim {
  key: string;
  app: AppSnapshot;
}

/** Precedence: the incumbent, then the earliest configuration, then the smaller id. */
function rank(previous: Map<string, string> | undefined, key: string) {
  return (a: AppSnapshot, b: AppSnapshot): number => {
    const owner = previous?.get(key);
    if (owner === a.id) return -1;
    if (owner === b.id) return 1;
    if (a.configChangedAt !== b.configChangedAt)
      return a.configChangedAt < b.configChangedAt ? -1 : 1;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  };
}

function backendsOf(app: AppSnapshot, isExcluded: (task: TaskSnapshot) => boolean): Backend[] {
  const backends: Backend[] = [];
  for (const task of app.tasks) {
    const port = task.ports[0];
    if (port === undefined || !isServing(app, task) || isExcluded(task)) continue;
    backends.push({
      key: `${task.host}:${port}`,
      taskId: task.id,
      appId: app.id,
      host: task.host,
      port,
    });
  }
  return backends;
}

export function buildRouteTable(options: BuildOptions): RouteTable {
  const { group, previousOwners, reservedPorts } = options;
  const problems: RouteTable['problems'] = [];
  const claims = new Map<string, AppSnapshot[]>();
  const routesById = new Map<string, AppRoute>();
  const addClaim = (claim: Claim) => {
    const list = claims.get(claim.key) ?? [];
    list.push(claim.app);
    claims.set(claim.key, list);
  };

  for (const app of options.apps) {
    const labels = readLabels(app.labels);
    if (!isInGroup(labels.groups, group)) continue;
    const appProblems = [...labels.problems];
    if (labels.pathPrefix === '') {
      problems.push({ appId: app.id, problems: appProblems });
      continue;
    }
    routesById.set(app.id, {
      appId: app.id,
      mode: labels.mode,
      vhosts: [],
      pathPrefix: labels.pathPrefix,
      backends: backendsOf(app, (task) => options.isExcluded(task)),
    });
    const port = app.servicePorts[0];
    if (port !== undefined && reservedPorts?.has(port)) {
      appProblems.push(`service port ${port} is the balancer's own port: not listened on`);
    } else if (port !== undefined) addClaim({ key: `port ${port}`, app });
    if (labels.mode === 'http') {
      for (const host of labels.vhosts)
        addClaim({ key: `vhost ${host} ${labels.pathPrefix}`, app });
    } else if (labels.vhosts.length > 0) {
      appProblems.push('HAPROXY_0_VHOST is ignored in tcp mode');
    }
    if (appProblems.length > 0) problems.push({ appId: app.id, problems: appProblems });
  }

  const owners = new Map<string, string>();
  const conflicts: Conflict[] = [];
  const byHost = new Map<string, AppRoute[]>();
  const byPort = new Map<number, AppRoute>();
  for (const [key, apps] of claims) {
    const [winner, ...losers] = [...apps].sort(rank(previousOwners, key));
    if (!winner) continue;
    owners.set(key, winner.id);
    for (const loser of losers) conflicts.push({ claim: key, winner: winner.id, loser: loser.id });
    const route = routesById.get(winner.id);
    if (!route) continue;
    const [kind, name] = key.split(' ') as [string, string];
    if (kind === 'port') {
      route.servicePort = Number(name);
      byPort.set(Number(name), route);
    } else {
      route.vhosts.push(name);
      const list = byHost.get(name) ?? [];
      list.push(route);
      byHost.set(name, list);
    }
  }
  // Longest prefix first: `/api` wins over `/` on the same host.
  for (const list of byHost.values())
    list.sort((a, b) => b.pathPrefix.length - a.pathPrefix.length);

  return {
    routes: [...routesById.values()],
    matchVhost(host, path) {
      return byHost.get(host)?.find((route) => path.startsWith(route.pathPrefix));
    },
    matchServicePort: (port) => byPort.get(port),
    owners,
    conflicts,
    problems,
  };
}
