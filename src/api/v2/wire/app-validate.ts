// Marathon's semantic rules for an app (AppValidation.scala, NetworkValidation.scala,
// SchedulingValidation.scala), with its messages and paths. Pacer runs like a Marathon with the
// `secrets` feature for environment variables only (api/v2/app-secrets.ts checks the store and the
// caller's grants), without `gpu_resources` and `external_volumes`, and with no default container
// network name.
import type { RoleSettings, Violation } from '../../../domain/index.js';
import type { AppSpec } from '../../../domain/index.js';
import type { AppFeatures } from './app-features.js';
import type { WireApp } from './app-schema.js';
import { checkPacerLabels } from './pacer-labels-validate.js';
import { checkCommandLineValues, checkContainerValues } from './container-validate.js';
import { SECRET_PATH } from './secret-schemas.js';
import { checkAppRoles } from './app-roles.js';

/** Marathon's message for a feature a request needs but the server does not enable. */
export function featureMessage(feature: string): string {
  return `Feature ${feature} is not enabled. Enable with --enable_features ${feature})`;
}

export const CMD_ARGS_MESSAGE =
  "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'.";

/** Rules on deprecated fields, checked on the body as sent (validateOldAppAPI). */
export function checkLegacyFields(wire: WireApp, violations: Violation[]): void {
  const root = (message: string) => violations.push({ path: '/', errors: [message] });
  if (wire.uris && wire.uris.length > 0 && wire.fetch && wire.fetch.length > 0) {
    violations.push({ path: '/uris', errors: ['may not be set in conjunction with fetch'] });
  }
  const discovery = (wire.ipAddress as { discovery?: unknown } | undefined)?.discovery;
  if (discovery !== undefined && wire.container?.type !== 'MESOS' && wire.container) {
    violations.push({
      path: '/ipAddress',
      errors: ['ipAddress/discovery is not allowed for Docker containers'],
    });
  }
  if (wire.container?.docker?.network !== undefined && wire.networks !== undefined) {
    root('must not specify both container.docker.network and networks');
  }
  if (wire.ipAddress !== undefined && wire.networks !== undefined) {
    root('must not specify both networks and ipAddress');
  }
  const fixed = (wire.ports ?? []).filter((p) => p !== 0);
  if (new Set(fixed).size !== fixed.length) root('ports must be unique');
  const hasPorts = (wire.ports?.length ?? 0) > 0 || (wire.portDefinitions?.length ?? 0) > 0;
  if (wire.ipAddress !== undefined && hasPorts) root('cannot specify both an IP address and port');
  if (wire.ports && wire.portDefinitions) {
    const same =
      JSON.stringify(wire.portDefinitions.map((p) => p.port ?? 0)) === JSON.stringify(wire.ports);
    if (!same) root('cannot specify both ports and port definitions');
  }
}

function checkNetworks(app: AppSpec, violations: Violation[]): void {
  const errors: string[] = [];
  const nets = app.networks;
  if (nets.some((n) => n.mode === 'host' && (n.name || n.labels))) {
    errors.push('Host networks may not have names or labels');
  }
  if (nets.some((n) => n.mode === 'container/bridge' && n.name))
    errors.push('Bridge networks may not have names');
  const names = nets.flatMap((n) => (n.name ? [n.name] : []));
  const unnamed = nets.filter((n) => n.mode === 'container' && !n.name).length;
  if (unnamed > 1 || new Set(names).size !== names.length)
    errors.push('Duplicate networks are not allowed');
  const count = (mode: string) => nets.filter((n) => n.mode === mode).length;
  const [host, bridge, container] = [count('host'), count('container/bridge'), count('container')];
  const isValidMix =
    (host <= 1 && bridge === 0 && container === 0) ||
    (host === 0 && bridge <= 1 && container === 0) ||
    (host === 0 && bridge === 0 && container > 0);
  if (!isValidMix) {
    errors.push(
      'May specify a single host network, single bridge network, or else 1-to-n container networks',
    );
  }
  if (nets.some((n) => n.mode === 'container' && n.name === undefined)) {
    errors.push('Network name must be specified when container network is selected.');
  }
  if (errors.length > 0) violations.push({ path: '/networks', errors });
}

function checkContainer(app: AppSpec, violations: Violation[]): void {
  const container = app.container;
  if (!container) return;
  const docker = container.docker;
  if (container.type === 'DOCKER') {
    if (!docker) violations.push({ path: '/container/docker', errors: ['is not defined'] });
    if (docker?.pullConfig !== undefined) {
      violations.push({
        path: '/container/docker/pullConfig',
        errors: ['pullConfig is not supported with Docker containerizer'],
      });
    }
    if (app.networks.filter((n) => n.mode === 'container').length > 1) {
      violations.push({
        path: '/',
        errors: [
          'may only specify a single container network when using the Docker container engine',
        ],
      });
    }
  } else if (docker?.pullConfig !== undefined) {
    violations.push({
      path: '/container/docker/pullConfig',
      errors: ['must be empty', featureMessage('secrets')],
    });
  }
  if (docker && docker.image === '') {
    violations.push({ path: '/container/docker/image', errors: ['must not be empty'] });
  }
  container.volumes.forEach((raw, i) => {
    const volume = raw as Record<string, unknown>;
    const path = `/container/volumes(${i})`;
    if ('external' in volume)
      violations.push({ path, errors: [featureMessage('external_volumes')] });
    else if ('secret' in volume) violations.push({ path, errors: [featureMessage('secrets')] });
    else if ('persistent' in volume) {
      const size = (volume.persistent as { size?: unknown } | undefined)?.size;
      if (typeof size !== 'number' || size <= 0) {
        violations.push({
          path: `${path}/persistent/size`,
          errors: [`got ${String(size)}, expected more than 0`],
        });
      }
    } else if (!volume.containerPath || !volume.hostPath) {
      violations.push({ path, errors: ['containerPath and hostPath must not be empty'] });
    }
  });
  const isHost = app.networks.some((n) => n.mode === 'host');
  if (isHost && (container.portMappings?.length ?? 0) > 0) {
    violations.push({ path: '/', errors: ['portMappings are not allowed with host-networking'] });
  }
  const names = (container.portMappings ?? []).flatMap((m) => (m.name ? [m.name] : []));
  if (new Set(names).size !== names.length) {
    violations.push({ path: '/container/portMappings', errors: ['Port names must be unique.'] });
  }
}

function portIndices(app: AppSpec): number {
  const mappings = app.container?.portMappings ?? [];
  return mappings.length > 0 ? mappings.length : (app.portDefinitions?.length ?? 0);
}

function checkHealthChecks(app: AppSpec, violations: Violation[]): void {
  const ports = portIndices(app);
  const isDocker = app.container?.type === 'DOCKER';
  app.healthChecks.forEach((check, i) => {
    const path = `/healthChecks(${i})`;
    const isMarathonSide = ['HTTP', 'HTTPS', 'TCP'].includes(check.protocol) && !check.command;
    if (isMarathonSide) {
      const isValid =
        check.portIndex !== undefined
          ? check.portIndex < ports
          : check.port !== undefined || ports === 1;
      if (!isValid) {
        violations.push({
          path,
          errors: [
            'Health check port indices must address an element of the ports array or container port mappings.',
          ],
        });
      }
    }
    const isMesosNet = ['MESOS_HTTP', 'MESOS_HTTPS', 'MESOS_TCP'].includes(check.protocol);
    if ((check.ipProtocol ?? 'IPv4') !== 'IPv4' && !(isMesosNet && isDocker)) {
      violations.push({
        path,
        errors: [
          'IPv6 can only be used for container type DOCKER and Mesos http/https/tcp health checks',
        ],
      });
    }
  });
  const mesos = app.healthChecks.filter(
    (c) => c.protocol.startsWith('MESOS_') || c.protocol === 'COMMAND',
  );
  if (mesos.length - mesos.filter((c) => c.command).length > 1) {
    violations.push({
      path: '/',
      errors: ['AppDefinition can contain at most one Mesos health check'],
    });
  }
}

function checkReadiness(app: AppSpec, violations: Violation[]): void {
  const checks = app.readinessChecks as {
    portName: string;
    timeoutSeconds: number;
    intervalSeconds: number;
  }[];
  if (checks.length > 1)
    violations.push({
      path: '/readinessChecks',
      errors: [`got ${checks.length}, expected 1 or less`],
    });
  const mappings = app.container?.portMappings ?? [];
  const ports = mappings.length > 0 ? mappings : (app.portDefinitions ?? []);
  const names = ports.flatMap((p) => (p.name ? [p.name] : []));
  checks.forEach((check, i) => {
    if (!names.includes(check.portName)) {
      violations.push({
        path: `/readinessChecks(${i})/portName`,
        errors: [`No port definition reference for portName ${check.portName}`],
      });
    }
    if (check.timeoutSeconds >= check.intervalSeconds) {
      violations.push({
        path: `/readinessChecks(${i})/timeoutSeconds`,
        errors: [`got ${check.timeoutSeconds}, expected less than ${check.intervalSeconds}`],
      });
    }
  });
}

function checkPortDefinitions(app: AppSpec, violations: Violation[]): void {
  const definitions = app.portDefinitions ?? [];
  const errors: string[] = [];
  const names = definitions.flatMap((d) => (d.name ? [d.name] : []));
  if (new Set(names).size !== names.length) errors.push('Port names must be unique.');
  const fixed = definitions.map((d) => d.port).filter((p) => p !== 0);
  if (new Set(fixed).size !== fixed.length) errors.push('Ports must be unique.');
  if (errors.length > 0) violations.push({ path: '/portDefinitions', errors });
  const isHost = app.networks.every((n) => n.mode === 'host');
  if (!isHost && definitions.length > 0) {
    violations.push({
      path: '/',
      errors: ['portDefinitions are only allowed with host-networking'],
    });
  }
}

const fmt = (value: number) => (Number.isInteger(value) ? `${value}.0` : String(value));

function checkScheduling(
  app: AppSpec,
  options: { isResident: boolean; violations: Violation[] },
): void {
  const { isResident, violations } = options;
  const isSingle = app.labels.MARATHON_SINGLE_INSTANCE_APP === 'true';
  if (isSingle && app.instances > 1) {
    violations.push({ path: '/', errors: ['Single instance app may only have one instance'] });
  }
  const { minimumHealthCapacity: min, maximumOverCapacity: max } = app.upgradeStrategy;
  if (isSingle && min !== 0) {
    violations.push({
      path: '/upgradeStrategy/minimumHealthCapacity',
      errors: [`got ${fmt(min)}, expected 0.0`],
    });
  }
  if ((isSingle || isResident) && max !== 0) {
    violations.push({
      path: '/upgradeStrategy/maximumOverCapacity',
      errors: [`got ${fmt(max)}, expected 0.0`],
    });
  }
  if (isResident && app.unreachableStrategy !== 'disabled') {
    violations.push({
      path: '/',
      errors: ['unreachableStrategy must be disabled for resident tasks'],
    });
  }
}

/** The canonical rules, on the normalized app (validateCanonicalAppAPI). */
export function checkApp(
  app: AppSpec,
  options: {
    isResident: boolean;
    violations: Violation[];
    features: AppFeatures;
    roles: RoleSettings;
  },
): void {
  const { violations } = options;
  const hasCmd = app.cmd !== undefined;
  const hasArgs = (app.args?.length ?? 0) > 0;
  const hasImage = app.container?.docker !== undefined;
  if (!(hasCmd !== hasArgs || (!(hasCmd && hasArgs) && hasImage))) {
    violations.push({ path: '/', errors: [CMD_ARGS_MESSAGE] });
  }
  if (app.cmd !== undefined && app.cmd.length <= 1) {
    violations.push({ path: '/', errors: ['must not be an empty string'] });
  }
  checkNetworks(app, violations);
  checkContainer(app, violations);
  checkContainerValues(app, violations);
  checkCommandLineValues(app, violations);
  checkPortDefinitions(app, violations);
  checkHealthChecks(app, violations);
  checkReadiness(app, violations);
  checkScheduling(app, options);
  checkPacerLabels(app.labels, violations);
  checkSecretRefs(app, { violations, enabled: options.features.secrets });
  if (app.gpus > 0) {
    const errors = [featureMessage('gpu_resources')];
    if (app.container?.type === 'DOCKER')
      errors.unshift('GPU resources only work with the Mesos containerizer');
    violations.push({ path: '/', errors });
  }
  if (app.acceptedResourceRoles && app.acceptedResourceRoles.length === 0) {
    violations.push({ path: '/acceptedResourceRoles', errors: ['must not be empty'] });
  }
  checkAppRoles(app, { settings: options.roles, violations });
}

/**
 * Secrets as environment variables: every `{"secret": name}` names a declared secret and every
 * declared source is a secret path (api/v2/wire/secret-schemas.ts), so no value can be reached
 * by a path with `..` or an empty segment.
 */
function checkSecretRefs(
  app: AppSpec,
  options: { violations: Violation[]; enabled: boolean },
): void {
  const { violations, enabled } = options;
  const declared = app.secrets ?? {};
  if (!enabled) {
    if (Object.keys(declared).length > 0)
      violations.push({ path: '/secrets', errors: [featureMessage('secrets')] });
    for (const [name, value] of Object.entries(app.env)) {
      if (typeof value !== 'string')
        violations.push({ path: `/env/${name}`, errors: [featureMessage('secrets')] });
    }
    return;
  }
  for (const [name, { source }] of Object.entries(declared)) {
    if (!SECRET_PATH.test(source)) {
      violations.push({
        path: `/secrets/${name}/source`,
        errors: ['must be segments of letters, digits, _ - and . joined by /'],
      });
    }
  }
  for (const [name, value] of Object.entries(app.env)) {
    if (typeof value !== 'string' && !Object.hasOwn(declared, value.secret)) {
      violations.push({
        path: `/env/${name}`,
        errors: [`references an undefined secret named '${value.secret}'`],
      });
    }
  }
}
