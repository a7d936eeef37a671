// AppInfo: App JSON plus task counts, deployments and, when embedded, tasks, the last task
// failure, readiness results and task stats (RAML/v2/types/app.raml `AppInfo`).
import type { AppDefinition, Instance, TaskFailure } from '../../../domain/index.js';
import { toAppJson } from './app-json.js';
import { hasTask, servicePortsOf, toTaskJson } from './task-json.js';

export const AppEmbed = [
  'tasks',
  'counts',
  'deployments',
  'readiness',
  'lastTaskFailure',
  'failures',
  'taskStats',
] as const;
export type AppEmbed = (typeof AppEmbed)[number];

/**
 * Reads `embed` values; `app.`, `apps.`, `group.apps.` prefixes or none are all accepted
 * (InfoEmbedResolver). Unknown values are ignored, as Marathon does.
 */
export function parseEmbed(values: string[]): Set<AppEmbed> {
  const out = new Set<AppEmbed>();
  for (const value of values) {
    const bare = value.replace(/^(group\.apps\.|apps\.|app\.)/, '');
    if ((AppEmbed as readonly string[]).includes(bare)) out.add(bare as AppEmbed);
  }
  if (out.has('failures')) out.add('lastTaskFailure');
  return out;
}

/** Marathon's task counts over an app's instances. */
export function taskCounts(instances: Instance[]): Record<string, number> {
  let staged = 0;
  let running = 0;
  let healthy = 0;
  let unhealthy = 0;
  for (const instance of instances) {
    const { condition, healthCheckResults: health } = instance;
    if (condition === 'Provisioned' || condition === 'Staging' || condition === 'Starting')
      staged++;
    if (condition !== 'Running') continue;
    running++;
    if (health.length === 0) continue;
    if (health.every((h) => h.alive)) healthy++;
    else unhealthy++;
  }
  return {
    tasksStaged: staged,
    tasksRunning: running,
    tasksHealthy: healthy,
    tasksUnhealthy: unhealthy,
  };
}

/** Everything an AppInfo needs besides the app itself. */
export interface AppInfoContext {
  instances: Instance[];
  deploymentIds: string[];
  embed: ReadonlySet<AppEmbed>;
  /** The app's latest failed task, shown when `lastTaskFailure` is embedded. */
  lastTaskFailure?: TaskFailure;
}

/** The AppInfo JSON; counts and deployments are always there, the rest as embedded. */
export function toAppInfo(app: AppDefinition, context: AppInfoContext): Record<string, unknown> {
  const { instances, deploymentIds, embed } = context;
  const info: Record<string, unknown> = toAppJson(app);
  const counts = taskCounts(instances);
  info.tasksStaged = counts.tasksStaged;
  info.tasksRunning = counts.tasksRunning;
  info.tasksHealthy = counts.tasksHealthy;
  info.tasksUnhealthy = counts.tasksUnhealthy;
  info.deployments = deploymentIds.map((id) => ({ id }));
  // As Marathon: the results of the readiness checks of the deployment running the app (the
  // balancer keeps a task that is not ready yet out of rotation); none once it is done.
  if (embed.has('readiness'))
    info.readinessCheckResults =
      deploymentIds.length > 0 ? instances.flatMap((i) => i.readinessCheckResults ?? []) : [];
  if (embed.has('tasks')) {
    const servicePorts = servicePortsOf(app);
    info.tasks = instances.filter(hasTask).map((i) => toTaskJson(i, servicePorts));
  }
  if (embed.has('lastTaskFailure') && context.lastTaskFailure) {
    const { appId, host, message, state, taskId, timestamp, version, slaveId } =
      context.lastTaskFailure;
    info.lastTaskFailure = {
      appId,
      host,
      message,
      state,
      taskId,
      timestamp,
      version,
      ...(slaveId === undefined ? {} : { slaveId }),
    };
  }
  return info;
}
