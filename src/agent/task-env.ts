// The environment Marathon gives every task (BEHAVIOUR.md (h)), merged under the app's own `env`.
import type { TaskLaunchSpec } from '../bus/index.js';

export function taskEnvironment(options: {
  taskId: string;
  spec: TaskLaunchSpec;
  host: string;
  sandboxDir: string;
}): Record<string, string> {
  const { taskId, spec, host, sandboxDir } = options;
  const env: Record<string, string> = {
    MESOS_TASK_ID: taskId,
    MESOS_SANDBOX: sandboxDir,
    MARATHON_APP_ID: spec.appId,
    MARATHON_APP_VERSION: spec.appVersion,
    MARATHON_APP_RESOURCE_CPUS: String(spec.resources.cpus),
    MARATHON_APP_RESOURCE_MEM: String(spec.resources.memMiB),
    MARATHON_APP_RESOURCE_DISK: String(spec.resources.diskMiB),
    MARATHON_APP_RESOURCE_GPUS: '0',
    MARATHON_APP_LABELS: Object.keys(spec.labels).join(' '),
    HOST: host,
  };
  for (const [key, value] of Object.entries(spec.labels)) {
    env[`MARATHON_APP_LABEL_${key.replace(/[^A-Za-z0-9_]/g, '_').toUpperCase()}`] = value;
  }
  spec.ports.forEach((port, index) => (env[`PORT${index}`] = String(port)));
  if (spec.ports.length > 0) {
    env.PORT = String(spec.ports[0]);
    env.PORTS = spec.ports.join(',');
  }
  return { ...env, ...spec.env };
}
