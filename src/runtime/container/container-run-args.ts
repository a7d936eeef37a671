// The `run` command line of a container task: Marathon's container, limits, ports, env and
// labels turned into podman/docker flags. Pure, so the mapping is testable without an engine.
import path from 'node:path';
import type { TaskSpec } from '../driver.js';
import type { ContainerEngineName } from './container-engine.js';

export interface RunArgsInput {
  engine: ContainerEngineName;
  /** Container name: the task id (made safe). */
  name: string;
  spec: TaskSpec;
  /** OCI runtime (`runc`). */
  runtime?: string;
  pull: 'never' | 'missing' | 'always';
  /** podman only: where conmon writes the k8s-file log. */
  logFile?: string;
  /** `KEY=value` lines; values with a newline are passed with `-e` instead. */
  envFile: string;
  /** cgroupfs path of a parent cgroup (`/pacer/<task>`), to read the memory peak after exit. */
  cgroupParent?: string;
  /** `--ulimit` values such as `nofile=1024:1024`. */
  ulimits: string[];
  /** Where the sandbox appears inside (Mesos: /mnt/mesos/sandbox). */
  sandboxMountPath: string;
  /** Let absolute `hostPath` volumes through (off by default: they open the agent's disk). */
  allowHostVolumes: boolean;
}

/** Thrown for a container definition this agent will not run (reported as a start failure). */
export class ContainerSpecError extends Error {}

interface Volume {
  containerPath: string;
  hostPath?: string;
  mode?: string;
}

/** The env the container gets: the task's, with MESOS_SANDBOX pointing at the mount. */
export function containerEnv(spec: TaskSpec, sandboxMountPath: string): Record<string, string> {
  return { ...spec.env, MESOS_SANDBOX: sandboxMountPath };
}

/** `KEY=value` lines of an env file, and the entries that cannot go there (multi-line values). */
export function envFileOf(env: Record<string, string>): { text: string; inline: string[] } {
  const lines: string[] = [];
  const inline: string[] = [];
  for (const [key, value] of Object.entries(env)) {
    if (/[\r\n]/.test(value)) inline.push('-e', `${key}=${value}`);
    else lines.push(`${key}=${value}`);
  }
  return { text: lines.length > 0 ? `${lines.join('\n')}\n` : '', inline };
}

/** Everything after `<engine>`: `run -d … <image> [args]`. */
export function containerRunArgs(input: RunArgsInput): string[] {
  const { spec } = input;
  const docker = spec.container?.docker;
  if (!docker?.image) throw new ContainerSpecError('container.docker.image is missing');
  if (docker.privileged) throw new ContainerSpecError('privileged containers are not allowed');
  if (docker.parameters?.length) {
    throw new ContainerSpecError(
      'docker parameters are not supported (they pass raw engine flags)',
    );
  }
  const args = ['run', '--detach', '--name', input.name, '--pull', input.pull];
  if (input.runtime) args.push('--runtime', input.runtime);
  args.push('--label', `pacer.task-id=${spec.taskId}`);
  for (const [key, value] of Object.entries(spec.labels)) {
    if (!key.startsWith('pacer.')) args.push('--label', `${key}=${value}`);
  }
  const env = envFileOf(containerEnv(spec, input.sandboxMountPath));
  args.push('--env-file', input.envFile, ...env.inline);
  if (spec.limits.cpus > 0) args.push('--cpus', String(spec.limits.cpus));
  if (spec.limits.memMiB > 0) {
    args.push('--memory', `${spec.limits.memMiB}m`, '--memory-swap', `${spec.limits.memMiB}m`);
  }
  if (input.cgroupParent) args.push('--cgroup-parent', input.cgroupParent);
  for (const ulimit of input.ulimits) args.push('--ulimit', ulimit);
  args.push('--stop-timeout', String(Math.ceil(spec.limits.killGracePeriodMs / 1000)));
  if (input.logFile) args.push('--log-driver', 'k8s-file', '--log-opt', `path=${input.logFile}`);
  args.push(...networkArgs(spec));
  args.push('--volume', `${spec.sandboxDir}:${input.sandboxMountPath}:rw`);
  for (const volume of volumesOf(spec)) {
    const hostPath = volume.hostPath ?? '';
    if (path.isAbsolute(hostPath) && !input.allowHostVolumes) {
      throw new ContainerSpecError(`host volume ${hostPath} is not allowed on this agent`);
    }
    // As with Mesos, a relative host path is a directory of the sandbox.
    const source = path.isAbsolute(hostPath) ? hostPath : path.join(spec.sandboxDir, hostPath);
    const mode = volume.mode?.toUpperCase() === 'RO' ? 'ro' : 'rw';
    args.push('--volume', `${source}:${volume.containerPath}:${mode}`);
  }
  // Marathon's `cmd` runs through a shell that replaces the image's entrypoint; `args` go to it.
  if (spec.cmd !== undefined && !spec.args?.length) {
    args.push('--entrypoint', '/bin/sh', docker.image, '-c', spec.cmd);
  } else {
    args.push(docker.image, ...(spec.args ?? []));
  }
  return args;
}

/**
 * portMappings → bridge network with `-p hostPort:containerPort/proto`; each mapping with a
 * `hostPort` (0 = any) takes the next port the agent assigned, in order. Without mappings the
 * task gets the host network when it has ports, and none at all otherwise (as command tasks).
 */
function networkArgs(spec: TaskSpec): string[] {
  const mappings = spec.container?.portMappings ?? [];
  if (mappings.length === 0) return ['--network', spec.ports.length > 0 ? 'host' : 'none'];
  const args = ['--network', 'bridge'];
  let next = 0;
  for (const mapping of mappings) {
    if (mapping.hostPort === undefined) continue;
    const hostPort = spec.ports[next++] ?? mapping.hostPort;
    if (!hostPort)
      throw new ContainerSpecError(
        `no host port assigned for container port ${mapping.containerPort}`,
      );
    const containerPort = mapping.containerPort || hostPort;
    for (const protocol of (mapping.protocol ?? 'tcp').split(',')) {
      args.push('--publish', `${hostPort}:${containerPort}/${protocol.trim()}`);
    }
  }
  return args;
}

function volumesOf(spec: TaskSpec): Volume[] {
  const volumes: Volume[] = [];
  for (const raw of spec.container?.volumes ?? []) {
    const volume = raw as Partial<Volume> & { persistent?: unknown; external?: unknown };
    if (typeof volume.containerPath !== 'string') {
      throw new ContainerSpecError('a volume without containerPath');
    }
    if (volume.persistent !== undefined || volume.external !== undefined) {
      throw new ContainerSpecError('persistent and external volumes are not supported');
    }
    volumes.push({
      containerPath: volume.containerPath,
      hostPath: volume.hostPath,
      mode: volume.mode,
    });
  }
  return volumes;
}
