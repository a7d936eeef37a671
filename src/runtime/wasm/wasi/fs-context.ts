// What the file system calls share: the sandbox root, guest memory, fd table, disk quota and
// exact times, and the helpers that keep the quota right when fds close and offsets arrive.
import { fstatSync } from 'node:fs';
import { resolveSandboxPath, MAX_PATH_BYTES, type SandboxPath } from '../sandbox-path.js';
import { Errno, WasiError } from '../wasi-errno.js';
import { allocatedBytes, MAX_FILE_BYTES, type DiskQuota } from './disk-quota.js';
import type { FdTable, FileEntry } from './fd-table.js';
import type { FileTimes } from './file-times.js';
import type { GuestMemory } from './guest-memory.js';
import type { StdioLog } from './stdio-log.js';

export interface FsContext {
  root: string;
  memory: GuestMemory;
  fds: FdTable;
  disk: DiskQuota;
  times: FileTimes;
  stdio: StdioLog;
}

/** The host path of a directory fd, checked again to be real directories all the way down. */
export function hostPathOf(ctx: FsContext, components: string[]): string {
  return resolveSandboxPath({ root: ctx.root, base: components, path: '.' }).hostPath;
}

/** Resolves the guest path at `ptr`/`len` against directory fd `dirFd` (sandbox-path.ts). */
export function resolveAt(
  ctx: FsContext,
  path: { dirFd: number; ptr: number; len: number; shouldFollow: boolean },
): SandboxPath {
  const { dirFd, shouldFollow } = path;
  const base = ctx.fds.dir(dirFd).components;
  const text = ctx.memory.readString(path.ptr, path.len, MAX_PATH_BYTES);
  return resolveSandboxPath({ root: ctx.root, base, path: text, shouldFollow });
}

/**
 * A guest file offset or size (an i64 the engine hands over signed): negative is EINVAL, past
 * `MAX_FILE_BYTES` is EFBIG, so no write or truncate can reach an unbounded offset.
 */
export function fileOffset(value: bigint | number, extra = 0): number {
  const n = BigInt(value);
  if (n < 0n) throw new WasiError(Errno.INVAL);
  if (n + BigInt(extra) > BigInt(MAX_FILE_BYTES)) throw new WasiError(Errno.FBIG);
  return Number(n);
}

/** True while another open fd than `except` holds inode `ino`. */
export function isHeldOpen(ctx: FsContext, ino: bigint, except?: FileEntry): boolean {
  return ctx.fds.files().some((f) => f !== except && f.ino === ino);
}

/**
 * Charges for a name removed from a directory (unlink, or a rename over it): the entry is
 * refunded; the blocks too unless another name or an open fd still holds the inode (an open
 * unlinked file stays charged until its last fd closes: `releaseFile`).
 */
export function refundRemoved(
  ctx: FsContext,
  stat: { ino: bigint; nlink: bigint; blocks: bigint; isDirectory(): boolean },
  entryBytes: number,
): void {
  ctx.disk.add(-entryBytes);
  const isLastName = stat.isDirectory() || stat.nlink <= 1n;
  if (isLastName && !isHeldOpen(ctx, stat.ino)) ctx.disk.add(-Number(stat.blocks) * 512);
}

/** Closes a file entry's host fd; refunds an unlinked file's blocks when this was its last fd. */
export function releaseFile(ctx: FsContext, entry: FileEntry, close: () => void): void {
  const stat = fstatSync(entry.hostFd, { bigint: true });
  close();
  if (stat.nlink === 0n && !isHeldOpen(ctx, entry.ino, entry)) {
    ctx.disk.add(-allocatedBytes(stat));
  }
}
