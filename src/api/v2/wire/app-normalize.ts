// Marathon App JSON (parsed) → Pacer's AppDefinition with every Marathon default applied
// (BEHAVIOUR.md (b)), legacy fields folded into their current form as AppNormalization does
// (`ports`, `uris`, `container.docker.network`/`portMappings`), then Marathon's rules checked.
import type {
  AppSpec,
  Container,
  FetchUri,
  HealthCheck,
  Network,
  PortDefinition,
  Result,
  UnreachableStrategy,
  UpgradeStrategy,
  Violation,
} from '../../../domain/index.js';
import { canonicalPath, isValidPathId, roleSettingsFor } from '../../../domain/index.js';
import type { AppFeatures } from './app-features.js';
import type { WireApp } from './app-schema.js';
import { checkApp, checkLegacyFields } from './app-validate.js';
import { normalizeConstraints } from './constraints.js';
import { groupViolations } from './violations.js';

export { CMD_ARGS_MESSAGE } from './app-validate.js';

/** Marathon's message for a path id that breaks the PathId pattern. */
export const ID_PATTERN_MESSAGE =
  "must fully match regular expression '^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])|(\\.|\\.\\.)$'";

/** Validates a canonical id; pushes Marathon's violation (at `path`, root at `/`) when bad. */
export function checkPathId(id: string, path: string, violations: Violation[]): void {
  if (id === '/') violations.push({ path: '/', errors: ['must not be root'] });
  else if (!isValidPathId(id)) violations.push({ path, errors: [ID_PATTERN_MESSAGE] });
}

function normalizeContainer(wire: WireApp): Container | undefined {
  const c = wire.container;
  if (!c) return undefined;
  const container: Container = { type: c.type ?? 'DOCKER', volumes: c.volumes ?? [] };
  if (c.docker) {
    const { network: _network, portMappings: _mappings, ...docker } = c.docker;
    container.docker = docker;
  }
  const mappings = c.portMappings ?? c.docker?.portMappings;
  if (mappings) {
    container.portMappings = mappings.map((m) => ({
      containerPort: m.containerPort ?? 0,
      ...(m.hostPort === undefined ? {} : { hostPort: m.hostPort }),
      servicePort: m.servicePort ?? 0,
      protocol: m.protocol ?? 'tcp',
      ...(m.name === undefined ? {} : { name: m.name }),
      ...(m.labels === undefined ? {} : { labels: m.labels }),
    }));
  }
  if (c.linuxInfo) container.linuxInfo = c.linuxInfo;
  return container;
}

function normalizeNetworks(wire: WireApp): Network[] {
  if (wire.networks && wire.networks.length > 0) {
    return wire.networks.map((n) => ({
      mode: n.mode ?? 'container',
      ...(n.name === undefined ? {} : { name: n.name }),
      ...(n.labels === undefined ? {} : { labels: n.labels }),
    }));
  }
  // COMPAT: the deprecated `ipAddress` asks for one container network (AppNormalization).
  const ipAddress = wire.ipAddress as { networkName?: unknown; labels?: unknown } | undefined;
  if (ipAddress) {
    const name = typeof ipAddress.networkName === 'string' ? ipAddress.networkName : undefined;
    const labels = ipAddress.labels as Record<string, string> | undefined;
    return [
      {
        mode: 'container',
        ...(name === undefined ? {} : { name }),
        ...(labels && Object.keys(labels).length > 0 ? { labels } : {}),
      },
    ];
  }
  const dockerNetwork = wire.container?.docker?.network;
  if (dockerNetwork === 'BRIDGE') return [{ mode: 'container/bridge' }];
  if (dockerNetwork === 'USER') return [{ mode: 'container' }];
  return [{ mode: 'host' }];
}

/** Port definitions with host networking; none otherwise (they are not allowed there). */
function normalizePortDefinitions(wire: WireApp, isHost: boolean): PortDefinition[] | undefined {
  if (wire.portDefinitions) {
    return wire.portDefinitions.map((p) => ({
      port: p.port ?? 0,
      protocol: p.protocol ?? 'tcp',
      ...(p.name === undefined ? {} : { name: p.name }),
      ...(p.labels === undefined ? {} : { labels: p.labels }),
    }));
  }
  if (!isHost) return undefined;
  if (wire.ports) return wire.ports.map((port) => ({ port, protocol: 'tcp' }));
  return [{ port: 0, protocol: 'tcp', name: 'default' }];
}

function normalizeHealthChecks(wire: WireApp, portCount: number): HealthCheck[] {
  return (wire.healthChecks ?? []).map((h): HealthCheck => {
    const protocol = h.protocol ?? 'HTTP';
    const check: HealthCheck = {
      protocol,
      gracePeriodSeconds: h.gracePeriodSeconds ?? 300,
      intervalSeconds: h.intervalSeconds ?? 60,
      timeoutSeconds: h.timeoutSeconds ?? 20,
      maxConsecutiveFailures: h.maxConsecutiveFailures ?? 3,
      delaySeconds: h.delaySeconds ?? 15,
    };
    if (['HTTP', 'HTTPS', 'MESOS_HTTP', 'MESOS_HTTPS'].includes(protocol))
      check.path = h.path ?? '/';
    if (h.command) check.command = h.command;
    if (protocol !== 'COMMAND') {
      if (h.port !== undefined) check.port = h.port;
      else if (h.portIndex !== undefined) check.portIndex = h.portIndex;
      else if (portCount > 0) check.portIndex = 0;
      check.ipProtocol = h.ipProtocol ?? 'IPv4';
    }
    if (protocol === 'HTTP' || protocol === 'HTTPS') check.ignoreHttp1xx = h.ignoreHttp1xx ?? false;
    return check;
  });
}

function normalizeReadiness(wire: WireApp): unknown[] {
  return (wire.readinessChecks ?? []).map((r) => ({
    name: r.name ?? 'readinessCheck',
    protocol: r.protocol ?? 'HTTP',
    path: r.path ?? '/',
    portName: r.portName ?? 'http-api',
    intervalSeconds: r.intervalSeconds ?? 30,
    timeoutSeconds: r.timeoutSeconds ?? 10,
    httpStatusCodesForReady: r.httpStatusCodesForReady ?? [200],
    preserveLastResponse: r.preserveLastResponse ?? false,
  }));
}

/** Defaults: `{1, 1}`; single-instance apps `{0, 0}`; resident apps `{0.5, 0}`. */
function normalizeUpgrade(
  wire: WireApp,
  options: { isSingle: boolean; isResident: boolean; violations: Violation[] },
): UpgradeStrategy {
  const { isSingle, isResident, violations } = options;
  const fallback = isSingle
    ? { minimumHealthCapacity: 0, maximumOverCapacity: 0 }
    : isResident
      ? { minimumHealthCapacity: 0.5, maximumOverCapacity: 0 }
      : { minimumHealthCapacity: 1, maximumOverCapacity: 1 };
  const strategy = {
    minimumHealthCapacity:
      wire.upgradeStrategy?.minimumHealthCapacity ?? fallback.minimumHealthCapacity,
    maximumOverCapacity: wire.upgradeStrategy?.maximumOverCapacity ?? fallback.maximumOverCapacity,
  };
  for (const key of ['minimumHealthCapacity', 'maximumOverCapacity'] as const) {
    const value = strategy[key];
    if (value < 0) violations.push({ path: `/upgradeStrategy/${key}`, errors: ['is less than 0'] });
    if (value > 1)
      violations.push({ path: `/upgradeStrategy/${key}`, errors: ['is greater than 1'] });
  }
  return strategy;
}

/** Default `{0, 0}` (since Marathon 1.5); resident apps default to `disabled`. */
function normalizeUnreachable(
  wire: WireApp,
  options: { isResident: boolean; violations: Violation[] },
): UnreachableStrategy {
  const u = wire.unreachableStrategy;
  if (u === 'disabled' || (u === undefined && options.isResident)) return 'disabled';
  const strategy = {
    inactiveAfterSeconds: u?.inactiveAfterSeconds ?? 0,
    expungeAfterSeconds: u?.expungeAfterSeconds ?? 0,
  };
  if (strategy.inactiveAfterSeconds > strategy.expungeAfterSeconds) {
    options.violations.push({
      path: '/unreachableStrategy/inactiveAfterSeconds',
      errors: [
        `got ${strategy.inactiveAfterSeconds}, expected less than or equal to ${strategy.expungeAfterSeconds}`,
      ],
    });
  }
  return strategy;
}

function normalizeFetch(wire: WireApp): FetchUri[] {
  if (wire.fetch && wire.fetch.length > 0) {
    return wire.fetch.map((f) => ({
      uri: f.uri,
      extract: f.extract ?? true,
      executable: f.executable ?? false,
      cache: f.cache ?? false,
      ...(f.destPath === undefined ? {} : { destPath: f.destPath }),
    }));
  }
  return (wire.uris ?? []).map((uri) => ({ uri, extract: true, executable: false, cache: false }));
}

/** What an app's roles depend on besides its body: its top-level group, its current role. */
export interface AppRoleContext {
  /** The app's top-level group enforces its role (`enforceRole`). */
  isGroupEnforcingRole: boolean;
  /** The role of the app as stored now; undefined for a new app. */
  currentRole?: string;
}

/**
 * Applies Marathon's defaults and rules to a parsed App body whose id is decided (`id`,
 * canonical); `roles` absent: a new app whose group does not enforce its role. Returns the violations in Marathon's path syntax when it is not valid.
 */
export function normalizeApp(
  wire: WireApp,
  options: { id: string; features: AppFeatures; roles?: AppRoleContext },
): Result<AppSpec> {
  const violations: Violation[] = [];
  const { id, features } = options;
  const roles = roleSettingsFor({
    appId: id,
    ...(options.roles ?? { isGroupEnforcingRole: false }),
  });
  checkPathId(id, '/id', violations);
  checkLegacyFields(wire, violations);
  const container = normalizeContainer(wire);
  const networks = normalizeNetworks(wire);
  const portDefinitions = normalizePortDefinitions(
    wire,
    networks.every((n) => n.mode === 'host'),
  );
  const mappings = container?.portMappings ?? [];
  const portCount = mappings.length > 0 ? mappings.length : (portDefinitions?.length ?? 0);
  const labels = wire.labels ?? {};
  const isSingle = labels.MARATHON_SINGLE_INSTANCE_APP === 'true';
  const isResident = (container?.volumes ?? []).some(
    (v) => typeof v === 'object' && v !== null && 'persistent' in v,
  );
  const parent = canonicalPath(`${id}/..`);
  const dependencies = (wire.dependencies ?? []).map((dep, i) => {
    const canonical = canonicalPath(dep, parent);
    checkPathId(canonical, `/dependencies(${i})`, violations);
    return canonical;
  });
  const hasArgs = wire.args !== undefined && wire.args.length > 0;
  const app: AppSpec = {
    id,
    ...(wire.cmd === undefined ? {} : { cmd: wire.cmd }),
    ...(hasArgs ? { args: wire.args } : {}),
    cpus: wire.cpus ?? 1,
    mem: wire.mem ?? 128,
    disk: wire.disk ?? 0,
    gpus: wire.gpus ?? 0,
    instances: wire.instances ?? 1,
    env: wire.env ?? {},
    labels,
    fetch: normalizeFetch(wire),
    constraints: normalizeConstraints(wire.constraints ?? [], violations),
    ...(container ? { container } : {}),
    healthChecks: normalizeHealthChecks(wire, portCount),
    readinessChecks: normalizeReadiness(wire),
    ...(portDefinitions ? { portDefinitions } : {}),
    requirePorts: wire.requirePorts ?? false,
    networks,
    backoffSeconds: wire.backoffSeconds ?? 1,
    backoffFactor: wire.backoffFactor ?? 1.15,
    maxLaunchDelaySeconds: wire.maxLaunchDelaySeconds ?? 300,
    upgradeStrategy: normalizeUpgrade(wire, { isSingle, isResident, violations }),
    unreachableStrategy: normalizeUnreachable(wire, { isResident, violations }),
    killSelection: wire.killSelection ?? 'YOUNGEST_FIRST',
    dependencies,
    ...(wire.taskKillGracePeriodSeconds === undefined
      ? {}
      : { taskKillGracePeriodSeconds: wire.taskKillGracePeriodSeconds }),
    executor: wire.executor ?? '',
    ...(wire.user === undefined ? {} : { user: wire.user }),
    role: wire.role ?? roles.defaultRole,
    ...(wire.acceptedResourceRoles ? { acceptedResourceRoles: wire.acceptedResourceRoles } : {}),
    ...(wire.secrets ? { secrets: wire.secrets } : {}),
    ...(wire.tty === undefined ? {} : { tty: wire.tty }),
    ...(wire.resourceLimits ? { resourceLimits: wire.resourceLimits } : {}),
    ...(wire.executorResources ? { executorResources: wire.executorResources } : {}),
  };
  checkApp(app, { isResident, violations, features, roles });
  if (violations.length > 0) return { ok: false, errors: groupViolations(violations) };
  return { ok: true, value: app };
}
