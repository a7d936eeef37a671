// Builds the launch command an agent receives from an app version and a placement.
import type { TaskLaunchSpec } from '../bus/index.js';
import type { AppDefinition } from '../domain/index.js';
import { taskKindOf } from '../domain/index.js';

/** The launch spec; variables set to secrets are left out (see `secretEnvOf`). */
export function toLaunchSpec(app: AppDefinition, ports: number[]): TaskLaunchSpec {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(app.env))
    if (typeof value === 'string') env[key] = value;
  return {
    kind: taskKindOf(app),
    appId: app.id,
    appVersion: app.version,
    cmd: app.cmd,
    args: app.args,
    env,
    labels: app.labels,
    fetch: app.fetch,
    resources: { cpus: app.cpus, memMiB: app.mem, diskMiB: app.disk },
    ports,
    container: app.container,
    killGracePeriodSeconds: app.taskKillGracePeriodSeconds,
    healthChecks: app.healthChecks,
  };
}

/**
 * The app's secret variables: name → secret path, from `"env": {"DB": {"secret": "db"}}` and
 * `"secrets": {"db": {"source": "team-a/db"}}`. The agent-commands sender opens them.
 */
export function secretEnvOf(app: AppDefinition): Record<string, string> {
  const refs: Record<string, string> = {};
  for (const [key, value] of Object.entries(app.env)) {
    const source = typeof value === 'string' ? undefined : app.secrets?.[value.secret]?.source;
    if (source !== undefined) refs[key] = source;
  }
  return refs;
}
