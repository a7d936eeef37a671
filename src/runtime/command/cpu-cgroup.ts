// A CPU cgroup per command task: under contention CPU time goes in proportion to `cpus`
// (cgroup v1 `cpu.shares` = cpus × 1024, v2 `cpu.weight` = cpus × 100), and with
// `--cpu-limit hard` the CFS quota caps the task at `cpus` cores even on an idle machine
// (v1 `cpu.cfs_quota_us`, v2 `cpu.max`).
import { access, constants, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { removeCgroup } from './cgroup-dir.js';

/** cgroup v1's cpu controller mount on most distributions. */
export const DEFAULT_CPU_CGROUP_V1_ROOT = '/sys/fs/cgroup/cpu';
/** The unified (v2) hierarchy. */
export const DEFAULT_CGROUP_V2_ROOT = '/sys/fs/cgroup';

/** `shares`: weights only (idle CPU is anyone's); `hard`: weights and a CFS cap at `cpus`. */
export type CpuLimitMode = 'shares' | 'hard';

/** CFS period: 100 ms, the kernel's default. */
const PERIOD_US = 100_000;
/** The smallest quota the kernel takes (1 ms). */
const MIN_QUOTA_US = 1_000;

export interface CpuHierarchy {
  version: 1 | 2;
  /** Where task groups go under (`<root>/pacer/<task>`). */
  root: string;
}

export interface CpuCgroup {
  readonly path: string;
  /** Writing a pid here moves it (and its future children) into the group. */
  readonly procsFile: string;
  /** SIGKILLs whatever is left in the group, then removes it. Idempotent. */
  remove(): Promise<void>;
}

async function isWritable(file: string, dir: string): Promise<boolean> {
  try {
    await access(file, constants.R_OK);
    await access(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The CPU hierarchy the agent may create groups in: v1's cpu controller when writable, else v2
 * when its cpu controller is available; undefined when neither (rootless, most containers).
 */
export async function detectCpuHierarchy(
  roots: { v1?: string; v2?: string } = {},
): Promise<CpuHierarchy | undefined> {
  const v1 = roots.v1 ?? DEFAULT_CPU_CGROUP_V1_ROOT;
  if (await isWritable(path.join(v1, 'cpu.shares'), v1)) return { version: 1, root: v1 };
  const v2 = roots.v2 ?? DEFAULT_CGROUP_V2_ROOT;
  try {
    const controllers = await readFile(path.join(v2, 'cgroup.controllers'), 'utf8');
    if (
      controllers.split(/\s+/).includes('cpu') &&
      (await isWritable(path.join(v2, 'cgroup.procs'), v2))
    )
      return { version: 2, root: v2 };
  } catch {
    // No unified hierarchy here.
  }
  return undefined;
}

/** v1 shares for `cpus` (the kernel takes 2 … 262144). */
export function cpuShares(cpus: number): number {
  return Math.min(262_144, Math.max(2, Math.round(cpus * 1024)));
}

/** v2 weight for `cpus` (the kernel takes 1 … 10000; 100 is one cpu's worth). */
export function cpuWeight(cpus: number): number {
  return Math.min(10_000, Math.max(1, Math.round(cpus * 100)));
}

/** CFS quota for `cpus` per 100 ms period. */
export function cfsQuotaUs(cpus: number): number {
  return Math.max(MIN_QUOTA_US, Math.round(cpus * PERIOD_US));
}

/** Creates (or reuses an empty leftover) group `<root>/<name>` for a task of `cpus`. */
export async function createCpuCgroup(options: {
  hierarchy: CpuHierarchy;
  name: string;
  cpus: number;
  mode: CpuLimitMode;
}): Promise<CpuCgroup> {
  const { hierarchy, name, cpus, mode } = options;
  const dir = path.join(hierarchy.root, name);
  if (hierarchy.version === 2) {
    // Every ancestor below the root must hand the cpu controller down to its children.
    let parent = hierarchy.root;
    for (const part of path
      .dirname(name)
      .split(path.sep)
      .filter((p) => p && p !== '.')) {
      await writeFile(path.join(parent, 'cgroup.subtree_control'), '+cpu').catch(() => undefined);
      parent = path.join(parent, part);
      await mkdir(parent, { recursive: true });
    }
    await writeFile(path.join(parent, 'cgroup.subtree_control'), '+cpu').catch(() => undefined);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'cpu.weight'), String(cpuWeight(cpus)));
    await writeFile(
      path.join(dir, 'cpu.max'),
      mode === 'hard' ? `${cfsQuotaUs(cpus)} ${PERIOD_US}` : `max ${PERIOD_US}`,
    );
  } else {
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'cpu.shares'), String(cpuShares(cpus)));
    await writeFile(path.join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
    await writeFile(
      path.join(dir, 'cpu.cfs_quota_us'),
      mode === 'hard' ? String(cfsQuotaUs(cpus)) : '-1',
    );
  }
  return openCpuCgroup(dir);
}

/** A handle on an existing group (after an agent restart). */
export function openCpuCgroup(dir: string): CpuCgroup {
  return {
    path: dir,
    procsFile: path.join(dir, 'cgroup.procs'),
    remove: () => removeCgroup(dir),
  };
}
