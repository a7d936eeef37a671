// The `run` command line of a container task: Marathon's container, limits, ports, env and
// labels turned into podman/docker flags. Pure, so the mapping is testable without an engine.
// No value of the app is ever an argv element of its own before the image: each is joined to
// its flag (`--label=k=v`), checked against its grammar first (the API checked it too), and the
// image, an OCI reference, comes after every option.
import path from 'node:path';
import {
  containerPathProblem,
  hostPathProblem,
  isDockerParameterKey,
  isImageReference,
  ungrantedHostAccess,
  hostAccessNeedsOf,
  type HostAccess,
} from '../../domain/index.js';
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
  /**
   * CPU (`--cpu-limit`): 'shares' weighs the container by `cpus` under contention
   * (`--cpu-shares`); 'hard' (default) also caps it at `cpus` (`--cpus`).
   */
  cpuLimit?: 'shares' | 'hard';
  /** Where the sandbox appears inside (Mesos: /mnt/mesos/sandbox). */
  sandboxMountPath: string;
  /** What this agent's operator allows: absolute host volumes and docker parameter keys. */
  hostAccess: HostAccess;
  /**
   * The host path to mount for each of `spec.container.volumes`, by index, as resolved on disk
   * by `resolveVolumeSources` (no symlink followed). Without it, paths are joined lexically.
   */
  volumeSources?: readonly string[];
}

/** Thrown for a container definition this agent will not run (reported as a start failure). */
export class ContainerSpecError extends Error {}

/** A volume of the container, its paths checked. */
export interface Volume {
  containerPath: string;
  /** Absolute (a host directory the operator allowed) or relative to the sandbox. */
  hostPath: string;
  mode?: string;
}

/** The env the container gets: the task's, with MESOS_SANDBOX pointing at the mount. */
export function containerEnv(spec: TaskSpec, sandboxMountPath: string): Record<string, string> {
  return { ...spec.env, MESOS_SANDBOX: sandboxMountPath };
}

/**
 * `KEY=value` lines of an env file, and the entries that cannot go there (multi-line values).
 * Throws `ContainerSpecError` for a name that would set another variable (`=`, NUL, newline).
 */
export function envFileOf(env: Record<string, string>): { text: string; inline: string[] } {
  const lines: string[] = [];
  const inline: string[] = [];
  for (const [key, value] of Object.entries(env)) {
    if (key === '' || /[=\0\r\n]/.test(key) || value.includes('\0')) {
      throw new ContainerSpecError(`env name '${key}' (or its value) cannot be passed`);
    }
    if (/[\r\n]/.test(value)) inline.push(`--env=${key}=${value}`);
    else lines.push(`${key}=${value}`);
  }
  return { text: lines.length > 0 ? `${lines.join('\n')}\n` : '', inline };
}

/** Everything after `<engine>`: `run -d … <image> [args]`. */
export function containerRunArgs(input: RunArgsInput): string[] {
  const { spec } = input;
  const docker = spec.container?.docker;
  if (!docker?.image) throw new ContainerSpecError('container.docker.image is missing');
  if (!isImageReference(docker.image)) {
    throw new ContainerSpecError(
      `container.docker.image '${docker.image}' is not an image reference`,
    );
  }
  if (docker.privileged) throw new ContainerSpecError('privileged containers are not allowed');
  const ungranted = ungrantedHostAccess(hostAccessNeedsOf(spec.container), input.hostAccess);
  if (ungranted) throw new ContainerSpecError(ungranted);
  const args = ['run', '--detach', `--name=${input.name}`, `--pull=${input.pull}`];
  if (input.runtime) args.push(`--runtime=${input.runtime}`);
  args.push(`--label=pacer.task-id=${spec.taskId}`);
  for (const [key, value] of Object.entries(spec.labels)) {
    if (!key.startsWith('pacer.')) args.push(`--label=${key}=${value}`);
  }
  const env = envFileOf(containerEnv(spec, input.sandboxMountPath));
  args.push(`--env-file=${input.envFile}`, ...env.inline);
  if (spec.limits.cpus > 0) {
    // 1024 shares per cpu, as Mesos's docker containerizer gives (at least 2, the kernel's floor).
    args.push(`--cpu-shares=${Math.max(2, Math.round(spec.limits.cpus * 1024))}`);
    if ((input.cpuLimit ?? 'hard') === 'hard') args.push(`--cpus=${spec.limits.cpus}`);
  }
  if (spec.limits.memMiB > 0) {
    args.push(`--memory=${spec.limits.memMiB}m`, `--memory-swap=${spec.limits.memMiB}m`);
  }
  if (input.cgroupParent) args.push(`--cgroup-parent=${input.cgroupParent}`);
  for (const ulimit of input.ulimits) args.push(`--ulimit=${ulimit}`);
  args.push(`--stop-timeout=${Math.ceil(spec.limits.killGracePeriodMs / 1000)}`);
  if (input.logFile) args.push('--log-driver=k8s-file', `--log-opt=path=${input.logFile}`);
  args.push(...networkArgs(spec));
  args.push(`--volume=${spec.sandboxDir}:${input.sandboxMountPath}:rw`);
  volumesOf(spec).forEach((volume, i) => {
    // As with Mesos, a relative host path is a directory of the sandbox.
    const source =
      input.volumeSources?.[i] ??
      (path.isAbsolute(volume.hostPath)
        ? volume.hostPath
        : path.join(spec.sandboxDir, volume.hostPath));
    const mode = volume.mode?.toUpperCase() === 'RO' ? 'ro' : 'rw';
    args.push(`--volume=${source}:${volume.containerPath}:${mode}`);
  });
  // Granted by the operator (checked above); the key is an option name, the value stays joined.
  for (const parameter of docker.parameters ?? []) {
    if (!isDockerParameterKey(parameter.key) || parameter.value.includes('\0')) {
      throw new ContainerSpecError(`docker parameter '${parameter.key}' cannot be passed`);
    }
    args.push(`--${parameter.key}=${parameter.value}`);
  }
  // Marathon's `cmd` runs through a shell that replaces the image's entrypoint; `args` go to it.
  // The image is the first argument that is not an option: everything after it is the command.
  if (spec.cmd !== undefined && !spec.args?.length) {
    args.push('--entrypoint=/bin/sh', docker.image, '-c', spec.cmd);
  } else {
    args.push(docker.image, ...(spec.args ?? []));
  }
  return args;
}

/**
 * portMappings → bridge network with `-p hostPort:containerPort/proto`; each mapping with a
 * `hostPort` (0 = any) takes the next port the agent assigned, in order. Without mappings, a
 * task with ports gets each one published to the same port inside (it listens on $PORT0, as on
 * Marathon's host network), and a task without ports no network at all. Never the host's own
 * network: from there a task reaches the agent's loopback services (Redis, Postgres, the agent),
 * as command tasks no longer can (issue 11, rule 7).
 */
function networkArgs(spec: TaskSpec): string[] {
  const mappings = spec.container?.portMappings ?? [];
  if (mappings.length === 0) {
    if (spec.ports.length === 0) return ['--network=none'];
    return ['--network=bridge', ...spec.ports.map((port) => `--publish=${port}:${port}/tcp`)];
  }
  const args = ['--network=bridge'];
  let next = 0;
  for (const mapping of mappings) {
    if (mapping.hostPort === undefined) continue;
    const hostPort = spec.ports[next++] ?? mapping.hostPort;
    if (!hostPort)
      throw new ContainerSpecError(
        `no host port assigned for container port ${mapping.containerPort}`,
      );
    const containerPort = mapping.containerPort || hostPort;
    for (const protocol of (mapping.protocol ?? 'tcp').split(',').map((p) => p.trim())) {
      if (!PROTOCOLS.has(protocol)) throw new ContainerSpecError(`unknown protocol '${protocol}'`);
      if (!Number.isInteger(containerPort) || containerPort < 1 || containerPort > 65535) {
        throw new ContainerSpecError(`container port ${containerPort} is out of range`);
      }
      args.push(`--publish=${hostPort}:${containerPort}/${protocol}`);
    }
  }
  return args;
}

const PROTOCOLS = new Set(['tcp', 'udp', 'sctp']);

/**
 * The container's volumes, each path checked: no engine separator in either path, and a
 * relative host path that stays inside the sandbox. Throws `ContainerSpecError`.
 */
export function volumesOf(spec: TaskSpec): Volume[] {
  const volumes: Volume[] = [];
  for (const raw of spec.container?.volumes ?? []) {
    const volume = raw as Partial<Volume> & { persistent?: unknown; external?: unknown };
    if (typeof volume.containerPath !== 'string') {
      throw new ContainerSpecError('a volume without containerPath');
    }
    if (volume.persistent !== undefined || volume.external !== undefined) {
      throw new ContainerSpecError('persistent and external volumes are not supported');
    }
    const hostPath = typeof volume.hostPath === 'string' ? volume.hostPath : '';
    const problem =
      containerPathProblem(volume.containerPath) ??
      (hostPathProblem(hostPath) === undefined
        ? undefined
        : `hostPath ${hostPathProblem(hostPath)}`);
    if (problem) throw new ContainerSpecError(`volume ${volume.containerPath}: ${problem}`);
    volumes.push({ containerPath: volume.containerPath, hostPath, mode: volume.mode });
  }
  return volumes;
}
