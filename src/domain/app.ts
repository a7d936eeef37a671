// The app definition as Pacer keeps it: Marathon's App, normalized, with every default applied.
// The wire layer (api/v2/wire) converts Marathon JSON to and from this shape.

/** `[field, OPERATOR]` or `[field, OPERATOR, value]`, exactly as Marathon writes constraints. */
export type Constraint = [string, string] | [string, string, string];

export interface FetchUri {
  uri: string;
  extract: boolean;
  executable: boolean;
  cache: boolean;
  destPath?: string;
}

export interface PortDefinition {
  port: number;
  protocol: string;
  name?: string;
  labels?: Record<string, string>;
}

export interface HealthCheck {
  protocol: 'HTTP' | 'HTTPS' | 'TCP' | 'COMMAND' | 'MESOS_HTTP' | 'MESOS_HTTPS' | 'MESOS_TCP';
  path?: string;
  portIndex?: number;
  port?: number;
  command?: { value: string };
  gracePeriodSeconds: number;
  intervalSeconds: number;
  timeoutSeconds: number;
  maxConsecutiveFailures: number;
  delaySeconds: number;
  ignoreHttp1xx?: boolean;
  ipProtocol?: 'IPv4' | 'IPv6';
}

export interface UpgradeStrategy {
  minimumHealthCapacity: number;
  maximumOverCapacity: number;
}

export type UnreachableStrategy =
  'disabled' | { inactiveAfterSeconds: number; expungeAfterSeconds: number };

export type KillSelection = 'YOUNGEST_FIRST' | 'OLDEST_FIRST';

export interface VersionInfo {
  lastScalingAt: string;
  lastConfigChangeAt: string;
}

/** Marathon's `container` object, kept as sent (normalized by the wire layer). */
export interface Container {
  type: 'DOCKER' | 'MESOS';
  docker?: {
    image: string;
    forcePullImage?: boolean;
    privileged?: boolean;
    parameters?: { key: string; value: string }[];
    pullConfig?: unknown;
  };
  volumes: unknown[];
  portMappings?: {
    containerPort: number;
    hostPort?: number;
    servicePort?: number;
    protocol?: string;
    name?: string;
    labels?: Record<string, string>;
  }[];
  linuxInfo?: unknown;
}

export interface Network {
  mode: 'host' | 'container' | 'container/bridge';
  name?: string;
  labels?: Record<string, string>;
}

export type EnvValue = string | { secret: string };

export interface AppDefinition {
  /** Canonical absolute path id, e.g. `/edge/hello`. */
  id: string;
  cmd?: string;
  args?: string[];
  cpus: number;
  mem: number;
  disk: number;
  gpus: number;
  instances: number;
  env: Record<string, EnvValue>;
  labels: Record<string, string>;
  fetch: FetchUri[];
  constraints: Constraint[];
  container?: Container;
  healthChecks: HealthCheck[];
  readinessChecks: unknown[];
  portDefinitions?: PortDefinition[];
  requirePorts: boolean;
  networks: Network[];
  backoffSeconds: number;
  backoffFactor: number;
  maxLaunchDelaySeconds: number;
  upgradeStrategy: UpgradeStrategy;
  unreachableStrategy: UnreachableStrategy;
  killSelection: KillSelection;
  dependencies: string[];
  taskKillGracePeriodSeconds?: number;
  executor: string;
  user?: string;
  role?: string;
  acceptedResourceRoles?: string[];
  secrets?: Record<string, { source: string }>;
  tty?: boolean;
  resourceLimits?: { cpus?: number | 'unlimited'; mem?: number | 'unlimited' };
  executorResources?: { cpus?: number; mem?: number; disk?: number };
  /** ISO timestamp of this version, set by the server. */
  version: string;
  versionInfo: VersionInfo;
}

/**
 * The service ports an app holds: each `portDefinitions[].port` and, with container networking,
 * `portMappings[].servicePort` (zeros are none: not yet assigned).
 */
export function servicePortsHeld(
  app: Pick<AppDefinition, 'portDefinitions' | 'container'>,
): number[] {
  const ports = [
    ...(app.portDefinitions ?? []).map((d) => d.port),
    ...(app.container?.portMappings ?? []).map((m) => m.servicePort ?? 0),
  ];
  return ports.filter((port) => port !== 0);
}

/** Counts `ports` into (`by` 1) or out of (`by` -1) `holders`, dropping ports no one holds. */
export function countPorts(
  holders: Map<number, number>,
  ports: Iterable<number>,
  by: 1 | -1,
): void {
  for (const port of ports) {
    const count = (holders.get(port) ?? 0) + by;
    if (count > 0) holders.set(port, count);
    else holders.delete(port);
  }
}
