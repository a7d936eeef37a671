// The task's disk quota, charged by what the file system really allocates: every inode's blocks
// (st_blocks), a fixed cost per directory entry, the files already in the sandbox when the task
// starts, and files unlinked while an fd still holds them (charged until that fd closes).
import { fstatSync, lstatSync, readdirSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import type { SandboxFile } from '../../driver.js';
import { makeSandbox } from '../../sandbox-files.js';
import { Errno, WasiError } from '../wasi-errno.js';

/**
 * What one directory entry (a file, directory or link name, and its inode) costs beyond its
 * blocks: an ext4 inode is 256 bytes, plus the entry and a share of the directory's blocks,
 * rounded up. It bounds how many names a task can make, which st_blocks alone would not.
 */
export const ENTRY_BYTES = 1024;

/** The largest file offset a task may write or truncate to (EFBIG past it). */
export const MAX_FILE_BYTES = 2 ** 40;

const BLOCK_BYTES = 4096;

/** Bytes an inode occupies on disk, from its stat. */
export function allocatedBytes(stat: BigIntStats): number {
  return Number(stat.blocks) * 512;
}

/** The quota of one task's sandbox. */
export interface DiskQuota {
  /**
   * Measures the sandbox now unless it was already (idempotent). The host calls it before any
   * call that may reach a file of the sandbox; a run that never does (a handler that only reads
   * its request and writes its answer) pays no directory walk. The other members prime it too.
   * With `files`, the sandbox is made first (it did not exist: `TaskSpec.sandboxFiles`), so a
   * task that never reaches a file costs no directory and no copy; it throws when that fails.
   */
  prime(): void;
  /** Bytes charged now (the sandbox as measured at start, plus every change since). */
  usedBytes(): number;
  /** EDQUOT unless `bytes` more fit under the quota: call before anything that allocates. */
  ensure(bytes: number): void;
  /** Adds (or with a negative value refunds) bytes measured after a change. */
  add(bytes: number): void;
  /** Bytes a write of `length` at `offset` into a file of this stat may newly allocate. */
  writeGrowth(stat: BigIntStats, offset: number, length: number): number;
}

/**
 * Measures `sandboxDir` (never following links; on first need, see `prime`) and charges later
 * changes against `quotaBytes`.
 */
export function createDiskQuota(options: {
  sandboxDir: string;
  quotaBytes: number;
  files?: readonly SandboxFile[];
}): DiskQuota {
  let measured: number | undefined;
  const made = (): string => {
    if (options.files) makeSandbox(options.sandboxDir, options.files);
    return options.sandboxDir;
  };
  const prime = (): number => (measured ??= measure(made()));
  return {
    prime: () => void prime(),
    usedBytes: prime,
    ensure(bytes) {
      if (bytes > 0 && prime() + bytes > options.quotaBytes) throw new WasiError(Errno.DQUOT);
    },
    add(bytes) {
      measured = Math.max(0, prime() + bytes);
    },
    writeGrowth(stat, offset, length) {
      if (length <= 0) return 0;
      const size = Number(stat.size);
      const end = offset + length;
      // Inside a file without holes, a write reuses blocks it already has.
      if (end <= size && allocatedBytes(stat) >= size) return 0;
      // Otherwise at most every block the written range touches, plus one for the extent tree.
      const first = Math.floor(offset / BLOCK_BYTES);
      const last = Math.ceil(end / BLOCK_BYTES);
      return (last - first + 1) * BLOCK_BYTES;
    },
  };
}

/** Blocks of every inode (hard links once) and `ENTRY_BYTES` per entry, below `dir`. */
function measure(dir: string): number {
  const seen = new Set<bigint>();
  let total = 0;
  // Iterative, so a deeply nested sandbox (a previous run's) cannot exhaust the stack.
  const pending = [dir];
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    const stat = lstatSync(path, { bigint: true });
    if (!seen.has(stat.ino)) {
      seen.add(stat.ino);
      total += allocatedBytes(stat);
    }
    if (!stat.isDirectory()) continue;
    for (const name of readdirSync(path)) {
      total += ENTRY_BYTES;
      pending.push(join(path, name));
    }
  }
  return total;
}

/** The blocks an open host fd holds now. */
export function allocatedBytesOfFd(hostFd: number): number {
  return allocatedBytes(fstatSync(hostFd, { bigint: true }));
}
