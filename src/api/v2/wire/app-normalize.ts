// Marathon App JSON (parsed) → Pacer's AppDefinition with every Marathon default applied and
// Marathon's semantic checks (BEHAVIOUR.md (b)); legacy fields (`ports`, `uris`,
// `container.docker.network`) are folded into their current form, as AppNormalization does.
import type {
  AppDefinition,
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
import { canonicalPath, isValidPathId } from '../../../domain/index.js';
import type { WireApp } from './app-schema.js';
import { normalizeConstraints } from './constraints.js';
import { groupViolations } from './violations.js';

/** An app as the API hands it to the orchestrator: everything but the server-stamped version. */
export type AppSpec = Omit<AppDefinition, 'version' | 'versionInfo'>;

/** Marathon's message for a path id that breaks the PathId pattern. */
export const ID_PATTERN_MESSAGE =
  "must fully match regular expression '^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])|(\\.|\\.\\.)$'";

export const CMD_ARGS_MESSAGE =
  "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'.";

const SINGLE_INSTANCE_LABEL = 'MARATHON_SINGLE_INSTANCE_APP';

/** Validates a canonical app id; pushes Marathon's violation at `path` when it is bad. */
export function checkPathId(id: string, path: string, violations: Violation[]): void {
  if (id === '/') violations.push({ path, errors: ['Path must not be root'] });
  else if (!isValidPathId(id)) violations.push({ path, errors: [ID_PATTERN_MESSAGE] });
}

function normalizeContainer(wire: WireApp): { container?: Container; dockerNetwork?: string } {
  const c = wire.container;
  if (!c) return {};
  const container: Container = { type: c.type ?? 'DOCKER', volumes: c.volumes ?? [] };
  if (c.docker) {
    const { network: _network, portMappings: _mappings, ...docker } = c.docker;
    container.docker = docker;
  }
  const mappings = c.portMappings ?? c.docker?.portMappings;
  if (mappings) {
    container.portMappings = mappings.map((m) => ({
      containerPort: m.containerPort ?? 0,
      hostPort: m.hostPort,
      servicePort: m.servicePort ?? 0,
      protocol: m.protocol ?? 'tcp',
      ...(m.name === undefined ? {} : { name: m.name }),
      ...(m.labels === undefined ? {} : { labels: m.labels }),
    }));
  }
  if (c.linuxInfo) container.linuxInfo = c.linuxInfo;
  return { container, dockerNetwork: c.docker?.network };
}

function normalizeNetworks(wire: WireApp, dockerNetwork: string | undefined): Network[] {
  if (wire.networks && wire.networks.length > 0) {
    return wire.networks.map((n) => ({
      mode: n.mode ?? 'container',
      ...(n.name === undefined ? {} : { name: n.name }),
      ...(n.labels === undefined ? {} : { labels: n.labels }),
    }));
  }
  if (dockerNetwork === 'BRIDGE') return [{ mode: 'container/bridge' }];
  if (dockerNetwork === 'USER') return [{ mode: 'container' }];
  return [{ mode: 'host' }];
}

function normalizePortDefinitions(
  wire: WireApp,
  isHost: boolean,
  violations: Violation[],
): PortDefinition[] | undefined {
  if (!isHost) {
    if (wire.portDefinitions && wire.portDefinitions.length > 0) {
      violations.push({
        path: '/portDefinitions',
        errors: ['portDefinitions are only allowed with host networking'],
      });
    }
    return undefined;
  }
  let definitions: PortDefinition[];
  if (wire.portDefinitions) {
    definitions = wire.portDefinitions.map((p) => ({
      port: p.port ?? 0,
      protocol: p.protocol ?? 'tcp',
      ...(p.name === undefined ? {} : { name: p.name }),
      ...(p.labels === undefined ? {} : { labels: p.labels }),
    }));
  } else if (wire.ports) {
    definitions = wire.ports.map((port) => ({ port, protocol: 'tcp' }));
  } else {
    definitions = [{ port: 0, protocol: 'tcp', name: 'default' }];
  }
  const names = definitions.flatMap((d) => (d.name === undefined ? [] : [d.name]));
  if (new Set(names).size !== names.length) {
    violations.push({ path: '/portDefinitions', errors: ['Port names must be unique.'] });
  }
  definitions.forEach((d, i) => {
    if (d.protocol !== 'tcp' && d.protocol !== 'udp' && d.protocol !== 'udp,tcp') {
      violations.push({
        path: `/portDefinitions(${i})/protocol`,
        errors: ['error.unknown.enum.literal'],
      });
    }
  });
  return definitions;
}

function normalizeHealthChecks(
  wire: WireApp,
  portCount: number,
  violations: Violation[],
): HealthCheck[] {
  const checks = (wire.healthChecks ?? []).map((h, i): HealthCheck => {
    const protocol = h.protocol ?? 'HTTP';
    const isHttp = protocol === 'HTTP' || protocol === 'HTTPS' || protocol.startsWith('MESOS_HTTP');
    const check: HealthCheck = {
      protocol,
      gracePeriodSeconds: h.gracePeriodSeconds ?? 300,
      intervalSeconds: h.intervalSeconds ?? 60,
      timeoutSeconds: h.timeoutSeconds ?? 20,
      maxConsecutiveFailures: h.maxConsecutiveFailures ?? 3,
      delaySeconds: h.delaySeconds ?? 15,
    };
    if (isHttp) check.path = h.path ?? '/';
    if (protocol === 'COMMAND') {
      if (h.command) check.command = h.command;
      else violations.push({ path: `/healthChecks(${i})/command`, errors: ['is not defined'] });
    } else {
      if (h.port !== undefined) check.port = h.port;
      else if (h.portIndex !== undefined) check.portIndex = h.portIndex;
      else if (portCount > 0) check.portIndex = 0;
      if (check.portIndex !== undefined && check.portIndex >= portCount) {
        violations.push({
          path: `/healthChecks(${i})`,
          errors: [
            'Health check port indices must address an element of the ports array or container port mappings.',
          ],
        });
      }
      check.ipProtocol = h.ipProtocol ?? 'IPv4';
    }
    if (protocol === 'HTTP' || protocol === 'HTTPS') check.ignoreHttp1xx = h.ignoreHttp1xx ?? false;
    return check;
  });
  if (checks.filter((c) => c.protocol.startsWith('MESOS_')).length > 1) {
    violations.push({
      path: '/healthChecks',
      errors: ['AppDefinition can contain at most one Mesos health check.'],
    });
  }
  return checks;
}

function normalizeReadiness(
  wire: WireApp,
  portNames: string[],
  violations: Violation[],
): unknown[] {
  const checks = wire.readinessChecks ?? [];
  if (checks.length > 1) {
    violations.push({
      path: '/readinessChecks',
      errors: [`size is ${checks.length}, expected 1 or less`],
    });
  }
  return checks.map((r, i) => {
    const check = {
      name: r.name ?? 'readinessCheck',
      protocol: r.protocol ?? 'HTTP',
      path: r.path ?? '/',
      portName: r.portName ?? 'http-api',
      intervalSeconds: r.intervalSeconds ?? 30,
      timeoutSeconds: r.timeoutSeconds ?? 10,
      httpStatusCodesForReady: r.httpStatusCodesForReady ?? [200],
      preserveLastResponse: r.preserveLastResponse ?? false,
    };
    if (check.timeoutSeconds >= check.intervalSeconds) {
      violations.push({
        path: `/readinessChecks(${i})`,
        errors: ['timeoutSeconds must be less than intervalSeconds'],
      });
    }
    if (!portNames.includes(check.portName)) {
      violations.push({
        path: `/readinessChecks(${i})`,
        errors: ['The portName must be one of the port names of the app'],
      });
    }
    return check;
  });
}

function normalizeUpgrade(
  wire: WireApp,
  isSingle: boolean,
  violations: Violation[],
): UpgradeStrategy {
  const fallback = isSingle ? 0 : 1;
  const strategy = {
    minimumHealthCapacity: wire.upgradeStrategy?.minimumHealthCapacity ?? fallback,
    maximumOverCapacity: wire.upgradeStrategy?.maximumOverCapacity ?? fallback,
  };
  for (const key of ['minimumHealthCapacity', 'maximumOverCapacity'] as const) {
    const value = strategy[key];
    if (value < 0) violations.push({ path: `/upgradeStrategy/${key}`, errors: ['is less than 0'] });
    if (value > 1)
      violations.push({ path: `/upgradeStrategy/${key}`, errors: ['is greater than 1'] });
  }
  return strategy;
}

function normalizeUnreachable(wire: WireApp, violations: Violation[]): UnreachableStrategy {
  const u = wire.unreachableStrategy;
  if (u === 'disabled') return 'disabled';
  const strategy = {
    inactiveAfterSeconds: u?.inactiveAfterSeconds ?? 0,
    expungeAfterSeconds: u?.expungeAfterSeconds ?? 0,
  };
  if (strategy.inactiveAfterSeconds > strategy.expungeAfterSeconds) {
    violations.push({
      path: '/unreachableStrategy/inactiveAfterSeconds',
      errors: [
        `got ${strategy.inactiveAfterSeconds}, expected less than or equal to expungeAfterSeconds`,
      ],
    });
  }
  return strategy;
}

function normalizeFetch(wire: WireApp, violations: Violation[]): FetchUri[] {
  if (wire.uris && wire.fetch) {
    violations.push({
      path: '/',
      errors: ["AppDefinition must not contain both 'uris' and 'fetch'."],
    });
  }
  if (wire.fetch) {
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

/**
 * Applies Marathon's defaults and checks to a parsed App body whose id is already decided
 * (`id`, canonical). Returns the violations in Marathon's path syntax when it is not valid.
 */
export function normalizeApp(wire: WireApp, options: { id: string }): Result<AppSpec> {
  const violations: Violation[] = [];
  const { id } = options;
  checkPathId(id, '/id', violations);
  const hasArgs = wire.args !== undefined && wire.args.length > 0;
  if (!((wire.cmd !== undefined) !== hasArgs || wire.container !== undefined)) {
    violations.push({ path: '/', errors: [CMD_ARGS_MESSAGE] });
  }
  const { container, dockerNetwork } = normalizeContainer(wire);
  const networks = normalizeNetworks(wire, dockerNetwork);
  const isHost = networks.every((n) => n.mode === 'host');
  if (!isHost && networks.some((n) => n.mode === 'host')) {
    violations.push({
      path: '/networks',
      errors: ['host networks may not be mixed with other networks'],
    });
  }
  const portDefinitions = normalizePortDefinitions(wire, isHost, violations);
  const ports = portDefinitions ?? container?.portMappings ?? [];
  const labels = wire.labels ?? {};
  const isSingle = labels[SINGLE_INSTANCE_LABEL]?.toLowerCase() === 'true';
  const instances = wire.instances ?? 1;
  if (isSingle && instances > 1) {
    violations.push({ path: '/instances', errors: [`got ${instances}, expected 1 or less`] });
  }
  const dependencies = (wire.dependencies ?? []).map((dep, i) => {
    const canonical = canonicalPath(dep, canonicalPath(id + '/..'));
    checkPathId(canonical, `/dependencies(${i})`, violations);
    return canonical;
  });
  if (wire.acceptedResourceRoles && wire.acceptedResourceRoles.length === 0) {
    violations.push({ path: '/acceptedResourceRoles', errors: ['must not be empty'] });
  }
  const topGroup = id.split('/')[1] ?? '';
  const role = wire.role ?? '*';
  if (role !== '*' && id.split('/').length > 2 && role !== topGroup) {
    violations.push({
      path: '/role',
      errors: [`got ${role}, expected one of: [*, ${topGroup}]`],
    });
  }
  const app: AppSpec = {
    id,
    ...(wire.cmd === undefined ? {} : { cmd: wire.cmd }),
    ...(hasArgs ? { args: wire.args } : {}),
    cpus: wire.cpus ?? 1,
    mem: wire.mem ?? 128,
    disk: wire.disk ?? 0,
    gpus: wire.gpus ?? 0,
    instances,
    env: wire.env ?? {},
    labels,
    fetch: normalizeFetch(wire, violations),
    constraints: normalizeConstraints(wire.constraints ?? [], violations),
    ...(container ? { container } : {}),
    healthChecks: normalizeHealthChecks(wire, ports.length, violations),
    readinessChecks: normalizeReadiness(
      wire,
      ports.flatMap((p) => (p.name === undefined ? [] : [p.name])),
      violations,
    ),
    ...(portDefinitions ? { portDefinitions } : {}),
    requirePorts: wire.requirePorts ?? false,
    networks,
    backoffSeconds: wire.backoffSeconds ?? 1,
    backoffFactor: wire.backoffFactor ?? 1.15,
    maxLaunchDelaySeconds: wire.maxLaunchDelaySeconds ?? 300,
    upgradeStrategy: normalizeUpgrade(wire, isSingle, violations),
    unreachableStrategy: normalizeUnreachable(wire, violations),
    killSelection: wire.killSelection ?? 'YOUNGEST_FIRST',
    dependencies,
    ...(wire.taskKillGracePeriodSeconds === undefined
      ? {}
      : { taskKillGracePeriodSeconds: wire.taskKillGracePeriodSeconds }),
    executor: wire.executor ?? '',
    ...(wire.user === undefined ? {} : { user: wire.user }),
    role,
    ...(wire.acceptedResourceRoles ? { acceptedResourceRoles: wire.acceptedResourceRoles } : {}),
    ...(wire.secrets ? { secrets: wire.secrets } : {}),
    ...(wire.tty === undefined ? {} : { tty: wire.tty }),
    ...(wire.resourceLimits ? { resourceLimits: wire.resourceLimits } : {}),
    ...(wire.executorResources ? { executorResources: wire.executorResources } : {}),
  };
  if (violations.length > 0) return { ok: false, errors: groupViolations(violations) };
  return { ok: true, value: app };
}
