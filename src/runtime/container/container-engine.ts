// The container engine CLI (podman or docker): running one of its commands, and finding out
// at agent start whether a working engine is there at all.
import { execFile } from 'node:child_process';
import type { Logger } from '../../lib/index.js';
import { findExecutable } from '../command/index.js';

export type ContainerEngineName = 'podman' | 'docker';

export interface ContainerEngineInfo {
  engine: ContainerEngineName;
  /** Absolute path of the CLI. */
  path: string;
  version: string;
  /** `cgroupfs` or `systemd`: only with cgroupfs can the driver name cgroup parents by path. */
  cgroupManager: string;
  /** `v1` or `v2`. */
  cgroupVersion: string;
}

export interface EngineResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `<engine> <args…>`; resolves with the exit code whatever it is (never rejects on a non-zero exit). */
export function runEngine(
  path: string,
  args: string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<EngineResult> {
  return new Promise((resolve, reject) => {
    execFile(
      path,
      args,
      {
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 16 * 1024 * 1024,
        env: options.env,
        cwd: options.cwd,
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(new Error(`${path} ${args[0] ?? ''} failed: ${error.message}`, { cause: error }));
          return;
        }
        resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
      },
    );
  });
}

interface PodmanInfo {
  host?: { cgroupManager?: string; cgroupVersion?: string };
  version?: { Version?: string };
}

interface DockerInfo {
  CgroupDriver?: string;
  CgroupVersion?: string;
  ServerVersion?: string;
}

/**
 * Checks that an engine answers (`podman info` / `docker info`); `auto` tries podman, then
 * docker. Undefined when none works, with the reason logged.
 */
export async function detectContainerEngine(
  engine: ContainerEngineName | 'auto' = 'auto',
  options: { logger?: Logger } = {},
): Promise<ContainerEngineInfo | undefined> {
  const candidates: ContainerEngineName[] = engine === 'auto' ? ['podman', 'docker'] : [engine];
  for (const name of candidates) {
    const path = await findExecutable(name);
    if (!path) {
      options.logger?.info({ engine: name }, 'container engine not installed');
      continue;
    }
    const args =
      name === 'podman' ? ['info', '--format', 'json'] : ['info', '--format', '{{json .}}'];
    const result = await runEngine(path, args, { timeoutMs: 30_000 }).catch((error: unknown) => ({
      code: -1,
      stdout: '',
      stderr: String(error),
    }));
    if (result.code !== 0) {
      options.logger?.warn(
        { engine: name, stderr: result.stderr.trim() },
        'container engine does not work',
      );
      continue;
    }
    if (name === 'podman') {
      const info = JSON.parse(result.stdout) as PodmanInfo;
      return {
        engine: name,
        path,
        version: info.version?.Version ?? 'unknown',
        cgroupManager: info.host?.cgroupManager ?? 'unknown',
        cgroupVersion: info.host?.cgroupVersion ?? 'unknown',
      };
    }
    const info = JSON.parse(result.stdout) as DockerInfo;
    return {
      engine: name,
      path,
      version: info.ServerVersion ?? 'unknown',
      cgroupManager: info.CgroupDriver ?? 'unknown',
      cgroupVersion: info.CgroupVersion === '2' ? 'v2' : 'v1',
    };
  }
  return undefined;
}
