// A cgroup v1 memory controller group per task: the limit the kernel enforces, and the
// OOM-kill counter that tells MEMORY_LIMIT apart from any other death by SIGKILL.
import { access, constants, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cgroupPids, removeCgroup } from './cgroup-dir.js';

/** Where cgroup v1 mounts the memory controller on most distributions. */
export const DEFAULT_MEMORY_CGROUP_ROOT = '/sys/fs/cgroup/memory';

export interface MemoryCgroup {
  /** Absolute directory of the group. */
  readonly path: string;
  /** Writing a pid here moves that process (and its future children) into the group. */
  readonly procsFile: string;
  /** Processes the kernel's OOM killer killed in this group (`oom_kill` of memory.oom_control). */
  oomKills(): Promise<number>;
  /** Highest memory use seen, in bytes. */
  maxUsageBytes(): Promise<number>;
  /** Pids currently in the group. */
  pids(): Promise<number[]>;
  /** SIGKILLs whatever is left in the group, then removes it. Idempotent. */
  remove(): Promise<void>;
}

/**
 * True when `root` is a writable cgroup v1 memory hierarchy (root agents on cgroup v1 hosts;
 * not rootless agents, not cgroup v2, not most containers).
 */
export async function canUseMemoryCgroup(root = DEFAULT_MEMORY_CGROUP_ROOT): Promise<boolean> {
  try {
    await access(path.join(root, 'memory.limit_in_bytes'), constants.R_OK);
    await access(root, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Creates (or reuses an empty leftover) group `<root>/<name>` with `limitBytes` of memory and no swap. */
export async function createMemoryCgroup(options: {
  root?: string;
  name: string;
  limitBytes: number;
}): Promise<MemoryCgroup> {
  const dir = path.join(options.root ?? DEFAULT_MEMORY_CGROUP_ROOT, options.name);
  await mkdir(dir, { recursive: true });
  const limit = String(Math.max(1, Math.floor(options.limitBytes)));
  await writeFile(path.join(dir, 'memory.limit_in_bytes'), limit);
  // memsw (memory + swap) must be >= the memory limit, so it is set second; absent without swap accounting.
  await writeFile(path.join(dir, 'memory.memsw.limit_in_bytes'), limit).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  });
  return openMemoryCgroup(dir);
}

/** A handle on an existing group (after an agent restart). */
export function openMemoryCgroup(dir: string): MemoryCgroup {
  const read = (file: string) => readFile(path.join(dir, file), 'utf8');
  const pids = () => cgroupPids(dir);
  return {
    path: dir,
    procsFile: path.join(dir, 'cgroup.procs'),
    async oomKills() {
      const match = /^oom_kill (\d+)$/m.exec(await read('memory.oom_control'));
      return match ? Number(match[1]) : 0;
    },
    async maxUsageBytes() {
      return Number((await read('memory.max_usage_in_bytes')).trim());
    },
    pids,
    remove: () => removeCgroup(dir),
  };
}
