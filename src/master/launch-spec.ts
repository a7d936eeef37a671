// Builds the launch command an agent receives from an app version and a placement.
import type { TaskLaunchSpec } from '../bus/index.js';
import type { AppDefinition } from '../domain/index.js';
import { taskKindOf } from '../domain/index.js';

export function toLaunchSpec(app: AppDefinition, ports: number[]): TaskLaunchSpec {
  const env: Record<string, string> = {};
  // Secret references need a secret store, which Pacer does not have: they are not passed on.
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
