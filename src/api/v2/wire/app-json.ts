// Pacer's AppDefinition → Marathon's App JSON: only Marathon's fields, empty `omitEmpty`
// arrays and maps left out, as Marathon's serializer does (BEHAVIOUR.md, conventions).
import type { AppDefinition } from '../../../domain/index.js';

/** Marathon's App JSON (response side). */
export type AppJson = Record<string, unknown> & { id: string; version: string };

/** The App JSON of a stored definition (`GET /v2/apps/{id}/versions/{v}`, embedded in AppInfo). */
export function toAppJson(app: AppDefinition): AppJson {
  // Built key by key (not by spreading) because list answers render a thousand of these.
  const json: Record<string, unknown> = { id: app.id };
  const list = (key: string, value: unknown[] | undefined) => {
    if (value && value.length > 0) json[key] = value;
  };
  const map = (key: string, value: Record<string, unknown> | undefined) => {
    if (value && Object.keys(value).length > 0) json[key] = value;
  };
  const optional = (key: string, value: unknown) => {
    if (value !== undefined) json[key] = value;
  };
  list('acceptedResourceRoles', app.acceptedResourceRoles);
  list('args', app.args);
  json.backoffFactor = app.backoffFactor;
  json.backoffSeconds = app.backoffSeconds;
  optional('cmd', app.cmd);
  list('constraints', app.constraints);
  optional('container', app.container);
  json.cpus = app.cpus;
  list('dependencies', app.dependencies);
  json.disk = app.disk;
  map('env', app.env);
  json.executor = app.executor;
  optional('executorResources', app.executorResources);
  list('fetch', app.fetch);
  json.gpus = app.gpus;
  list('healthChecks', app.healthChecks);
  json.instances = app.instances;
  json.killSelection = app.killSelection;
  json.labels = app.labels;
  json.maxLaunchDelaySeconds = app.maxLaunchDelaySeconds;
  json.mem = app.mem;
  json.networks = app.networks;
  optional('portDefinitions', app.portDefinitions);
  list('readinessChecks', app.readinessChecks);
  json.requirePorts = app.requirePorts;
  optional('resourceLimits', app.resourceLimits);
  json.role = app.role ?? '*';
  map('secrets', app.secrets);
  optional('taskKillGracePeriodSeconds', app.taskKillGracePeriodSeconds);
  optional('tty', app.tty);
  json.unreachableStrategy = app.unreachableStrategy;
  json.upgradeStrategy = app.upgradeStrategy;
  optional('user', app.user);
  json.version = app.version;
  json.versionInfo = app.versionInfo;
  return json as AppJson;
}
