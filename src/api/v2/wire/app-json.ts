// Pacer's AppDefinition → Marathon's App JSON: only Marathon's fields, empty `omitEmpty`
// arrays and maps left out, as Marathon's serializer does (BEHAVIOUR.md, conventions).
import type { AppDefinition } from '../../../domain/index.js';

/** Marathon's App JSON (response side). */
export type AppJson = Record<string, unknown> & { id: string; version: string };

function nonEmpty<T>(key: string, value: T[] | undefined): Record<string, T[]> {
  return value && value.length > 0 ? { [key]: value } : {};
}

function nonEmptyMap<T>(
  key: string,
  value: Record<string, T> | undefined,
): Record<string, unknown> {
  return value && Object.keys(value).length > 0 ? { [key]: value } : {};
}

function defined(key: string, value: unknown): Record<string, unknown> {
  return value === undefined ? {} : { [key]: value };
}

/** The App JSON of a stored definition (`GET /v2/apps/{id}/versions/{v}`, embedded in AppInfo). */
export function toAppJson(app: AppDefinition): AppJson {
  return {
    id: app.id,
    ...nonEmpty('acceptedResourceRoles', app.acceptedResourceRoles),
    ...nonEmpty('args', app.args),
    backoffFactor: app.backoffFactor,
    backoffSeconds: app.backoffSeconds,
    ...defined('cmd', app.cmd),
    ...nonEmpty('constraints', app.constraints),
    ...defined('container', app.container),
    cpus: app.cpus,
    ...nonEmpty('dependencies', app.dependencies),
    disk: app.disk,
    ...nonEmptyMap('env', app.env),
    executor: app.executor,
    ...defined('executorResources', app.executorResources),
    ...nonEmpty('fetch', app.fetch),
    gpus: app.gpus,
    ...nonEmpty('healthChecks', app.healthChecks),
    instances: app.instances,
    killSelection: app.killSelection,
    labels: app.labels,
    maxLaunchDelaySeconds: app.maxLaunchDelaySeconds,
    mem: app.mem,
    networks: app.networks,
    ...defined('portDefinitions', app.portDefinitions),
    ...nonEmpty('readinessChecks', app.readinessChecks),
    requirePorts: app.requirePorts,
    ...defined('resourceLimits', app.resourceLimits),
    role: app.role ?? '*',
    ...nonEmptyMap('secrets', app.secrets),
    ...defined('taskKillGracePeriodSeconds', app.taskKillGracePeriodSeconds),
    ...defined('tty', app.tty),
    unreachableStrategy: app.unreachableStrategy,
    upgradeStrategy: app.upgradeStrategy,
    ...defined('user', app.user),
    version: app.version,
    versionInfo: app.versionInfo,
  };
}
