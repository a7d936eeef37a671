// WASI calls on paths and directory listings: open, stat, times, create and remove directories,
// unlink, rename, links and symlinks, readdir. Every path goes through sandbox-path.ts; every
// new name is checked against the disk quota first and charged by what it really allocated.
/* eslint-disable max-params -- WASI preview 1 fixes these signatures: the ABI, not an API of ours. */
import {
  constants as fsConstants,
  closeSync,
  fstatSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmdirSync,
  symlinkSync,
  unlinkSync,
  type BigIntStats,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { MAX_PATH_BYTES, type SandboxPath } from '../sandbox-path.js';
import { Errno } from '../wasi-errno.js';
import { allocatedBytes, ENTRY_BYTES } from './disk-quota.js';
import {
  DIRECTORY_RIGHTS,
  FILE_RIGHTS,
  FdFlag,
  Right,
  type DirEntry,
  type FdEntry,
} from './fd-table.js';
import { fileTypeOf, FileType } from './file-times.js';
import { hostPathOf, refundRemoved, resolveAt, type FsContext } from './fs-context.js';

const ok = Errno.SUCCESS;
const OFLAGS = { creat: 1, directory: 2, excl: 4, trunc: 8 } as const;
const LOOKUP_FOLLOW = 1;
const BLOCK_BYTES = 4096;

function lstatBig(hostPath: string): BigIntStats {
  return lstatSync(hostPath, { bigint: true });
}

/**
 * Makes a new name with `create`: EDQUOT unless an entry and a block fit, then charges the
 * entry, the new inode's blocks and what the parent directory grew by.
 */
function createName(ctx: FsContext, target: SandboxPath, create: () => void): void {
  ctx.disk.ensure(ENTRY_BYTES + BLOCK_BYTES);
  const parent = dirname(target.hostPath);
  const parentBefore = allocatedBytes(lstatBig(parent));
  create();
  const made = allocatedBytes(lstatBig(target.hostPath));
  ctx.disk.add(ENTRY_BYTES + made + allocatedBytes(lstatBig(parent)) - parentBefore);
}

/** The path_* and fd_readdir calls of the WASI import object. */
export function createPathCalls(ctx: FsContext): Record<string, (...args: never[]) => number> {
  const { fds, memory } = ctx;
  // One listing per task, of the directory read last: paging through it by cookie reads the
  // directory once, and a task holding many directory fds cannot hold many listings.
  let cached: { dir: DirEntry; names: { name: string; type: number }[] } | undefined;
  const at = (dirFd: number, ptr: number, len: number, shouldFollow = false) =>
    resolveAt(ctx, { dirFd, ptr, len, shouldFollow });

  return {
    path_open(
      dirFd: number,
      dirflags: number,
      pathPtr: number,
      pathLen: number,
      oflags: number,
      rightsBase: bigint,
      rightsInheriting: bigint,
      fdflags: number,
      fdPtr: number,
    ) {
      const dir = fds.dir(dirFd);
      memory.check(fdPtr, 4);
      if (fdflags & ~0x1f || oflags & ~0xf) return Errno.INVAL;
      const target = at(dirFd, pathPtr, pathLen, (dirflags & LOOKUP_FOLLOW) !== 0);
      const stat = target.stat;
      const wanted = BigInt.asUintN(64, rightsBase);
      const inheriting = BigInt.asUintN(64, rightsInheriting) & dir.rightsInheriting;
      if (stat && oflags & OFLAGS.creat && oflags & OFLAGS.excl) return Errno.EXIST;
      // A final symlink that was not to be followed (O_NOFOLLOW): Linux says ELOOP.
      if (stat?.isSymbolicLink()) return Errno.LOOP;
      if (oflags & OFLAGS.trunc) fds.require(dir, Right.PATH_FILESTAT_SET_SIZE);
      let entry: FdEntry;
      if (stat?.isDirectory()) {
        if (wanted & Right.FD_WRITE || oflags & OFLAGS.trunc) return Errno.ISDIR;
        entry = {
          kind: 'dir',
          components: target.components,
          rightsBase: wanted & DIRECTORY_RIGHTS & dir.rightsInheriting,
          rightsInheriting: inheriting,
        };
      } else {
        if (oflags & OFLAGS.directory) return stat ? Errno.NOTDIR : Errno.NOENT;
        if (!stat && !(oflags & OFLAGS.creat)) return Errno.NOENT;
        if (!stat && target.hasTrailingSlash) return Errno.ISDIR;
        if (stat && !stat.isFile()) return Errno.ACCES;
        const isRead = (wanted & (Right.FD_READ | Right.FD_READDIR)) !== 0n;
        const isWrite =
          (wanted & (Right.FD_WRITE | Right.FD_ALLOCATE | Right.FD_FILESTAT_SET_SIZE)) !== 0n ||
          (oflags & OFLAGS.trunc) !== 0;
        let flags = fsConstants.O_NOFOLLOW;
        if (isWrite) flags |= isRead ? fsConstants.O_RDWR : fsConstants.O_WRONLY;
        else flags |= fsConstants.O_RDONLY;
        if (oflags & OFLAGS.creat) flags |= fsConstants.O_CREAT;
        if (oflags & OFLAGS.excl) flags |= fsConstants.O_EXCL;
        if (oflags & OFLAGS.trunc) flags |= fsConstants.O_TRUNC;
        if (fdflags & FdFlag.DSYNC) flags |= fsConstants.O_DSYNC;
        if (fdflags & (FdFlag.SYNC | FdFlag.RSYNC)) flags |= fsConstants.O_SYNC;
        let hostFd = -1;
        const open = () => (hostFd = openSync(target.hostPath, flags, 0o644));
        if (stat) {
          // O_TRUNC frees blocks: charge the difference.
          open();
          ctx.disk.add(allocatedBytes(fstatSync(hostFd, { bigint: true })) - allocatedBytes(stat));
        } else {
          createName(ctx, target, open);
        }
        entry = {
          kind: 'file',
          hostFd,
          ino: fstatSync(hostFd, { bigint: true }).ino,
          position: 0,
          fdflags,
          rightsBase: wanted & FILE_RIGHTS & dir.rightsInheriting,
          rightsInheriting: inheriting,
        };
      }
      let fd: number;
      try {
        fd = fds.add(entry);
      } catch (error) {
        if (entry.kind === 'file') closeSync(entry.hostFd);
        throw error;
      }
      memory.view().setUint32(fdPtr, fd, true);
      return ok;
    },
    path_filestat_get(dirFd: number, flags: number, pathPtr: number, pathLen: number, ptr: number) {
      memory.check(ptr, 64);
      const target = at(dirFd, pathPtr, pathLen, (flags & LOOKUP_FOLLOW) !== 0);
      if (!target.stat) return Errno.NOENT;
      ctx.times.writeFilestat(memory.view(), ptr, target.stat);
      return ok;
    },
    path_filestat_set_times(
      dirFd: number,
      flags: number,
      pathPtr: number,
      pathLen: number,
      atim: bigint,
      mtim: bigint,
      fstFlags: number,
    ) {
      const target = at(dirFd, pathPtr, pathLen, (flags & LOOKUP_FOLLOW) !== 0);
      if (!target.stat) return Errno.NOENT;
      ctx.times.set(
        { hostPath: target.hostPath },
        { atimNs: BigInt.asUintN(64, atim), mtimNs: BigInt.asUintN(64, mtim), fstFlags },
      );
      return ok;
    },
    path_create_directory(dirFd: number, pathPtr: number, pathLen: number) {
      const target = at(dirFd, pathPtr, pathLen);
      if (target.stat) return Errno.EXIST;
      createName(ctx, target, () => mkdirSync(target.hostPath));
      return ok;
    },
    path_remove_directory(dirFd: number, pathPtr: number, pathLen: number) {
      const target = at(dirFd, pathPtr, pathLen);
      const stat = target.stat;
      if (!stat) return Errno.NOENT;
      if (!stat.isDirectory()) return Errno.NOTDIR;
      if (target.components.length === 0) return Errno.BUSY;
      rmdirSync(target.hostPath);
      refundRemoved(ctx, stat, ENTRY_BYTES);
      return ok;
    },
    path_unlink_file(dirFd: number, pathPtr: number, pathLen: number) {
      const target = at(dirFd, pathPtr, pathLen);
      const stat = target.stat;
      if (!stat) return Errno.NOENT;
      if (stat.isDirectory()) return Errno.ISDIR;
      unlinkSync(target.hostPath);
      refundRemoved(ctx, stat, ENTRY_BYTES);
      return ok;
    },
    path_rename(
      fromFd: number,
      fromPtr: number,
      fromLen: number,
      toFd: number,
      toPtr: number,
      toLen: number,
    ) {
      const from = at(fromFd, fromPtr, fromLen);
      const to = at(toFd, toPtr, toLen);
      if (!from.stat) return Errno.NOENT;
      if (from.components.length === 0 || to.components.length === 0) return Errno.BUSY;
      if (to.hasTrailingSlash && !from.stat.isDirectory()) return Errno.NOTDIR;
      renameSync(from.hostPath, to.hostPath);
      // The name replaced (if any) is gone: refund it like an unlink.
      if (to.stat && to.stat.ino !== from.stat.ino) refundRemoved(ctx, to.stat, ENTRY_BYTES);
      return ok;
    },
    path_readlink(
      dirFd: number,
      pathPtr: number,
      pathLen: number,
      buf: number,
      bufLen: number,
      usedPtr: number,
    ) {
      memory.check(buf, bufLen);
      memory.check(usedPtr, 4);
      const target = at(dirFd, pathPtr, pathLen);
      if (!target.stat) return Errno.NOENT;
      if (!target.stat.isSymbolicLink()) return Errno.INVAL;
      const link = readlinkSync(target.hostPath, { encoding: 'buffer' });
      const n = Math.min(link.length, bufLen >>> 0);
      memory.slice(buf, n).set(link.subarray(0, n));
      memory.view().setUint32(usedPtr, n, true);
      return ok;
    },
    path_symlink(oldPtr: number, oldLen: number, dirFd: number, newPtr: number, newLen: number) {
      const linkTarget = memory.readString(oldPtr, oldLen, MAX_PATH_BYTES);
      // A link is only ever followed inside the sandbox; an absolute one never could be.
      if (linkTarget.startsWith('/')) return Errno.NOTCAPABLE;
      if (linkTarget.includes('\0') || linkTarget === '') return Errno.INVAL;
      const target = at(dirFd, newPtr, newLen);
      if (target.stat) return Errno.EXIST;
      if (target.hasTrailingSlash) return Errno.NOENT;
      createName(ctx, target, () => symlinkSync(linkTarget, target.hostPath));
      return ok;
    },
    path_link(
      oldFd: number,
      oldFlags: number,
      oldPtr: number,
      oldLen: number,
      newFd: number,
      newPtr: number,
      newLen: number,
    ) {
      if (oldFlags & LOOKUP_FOLLOW) return Errno.INVAL;
      const from = at(oldFd, oldPtr, oldLen);
      if (!from.stat) return Errno.NOENT;
      if (from.stat.isDirectory()) return Errno.PERM;
      const to = at(newFd, newPtr, newLen);
      if (to.hasTrailingSlash && !to.stat) return Errno.NOENT;
      if (to.stat) return Errno.EXIST;
      // link(2) does not follow a final symlink: the new name is a link to the link.
      ctx.disk.ensure(ENTRY_BYTES + BLOCK_BYTES);
      const parent = dirname(to.hostPath);
      const parentBefore = allocatedBytes(lstatBig(parent));
      linkSync(from.hostPath, to.hostPath);
      ctx.disk.add(ENTRY_BYTES + allocatedBytes(lstatBig(parent)) - parentBefore);
      return ok;
    },
    fd_readdir(fd: number, buf: number, bufLen: number, cookie: bigint, usedPtr: number) {
      const dir = fds.dir(fd);
      memory.check(buf, bufLen);
      memory.check(usedPtr, 4);
      const dirPath = hostPathOf(ctx, dir.components);
      const start = BigInt.asUintN(64, cookie);
      if (start === 0n || cached?.dir !== dir) {
        cached = { dir, names: listing(ctx, dir) };
        // Reading a directory is work in proportion to its names: charged like bytes touched.
        memory.addTouched(cached.names.reduce((n, e) => n + e.name.length + 24, 0));
      }
      const entries = cached.names;
      const size = bufLen >>> 0;
      let used = 0;
      for (let i = Number(start); i < entries.length && used < size; i++) {
        const entry = entries[i] as { name: string; type: number };
        const name = Buffer.from(entry.name);
        const record = Buffer.alloc(24 + name.length);
        record.writeBigUInt64LE(BigInt(i + 1), 0);
        record.writeBigUInt64LE(inoOf(dirPath, entry.name, dir), 8);
        record.writeUInt32LE(name.length, 16);
        record.writeUInt8(entry.type, 20);
        name.copy(record, 24);
        // The last record may be cut short: the guest sees a full buffer and reads again.
        const n = Math.min(record.length, size - used);
        memory.slice(buf + used, n).set(record.subarray(0, n));
        used += n;
      }
      memory.view().setUint32(usedPtr, used, true);
      return ok;
    },
  };
}

/** `.`, `..` and the directory's names (sorted), taken once per pass from cookie 0. */
function listing(ctx: FsContext, dir: DirEntry): { name: string; type: number }[] {
  const names = readdirSync(hostPathOf(ctx, dir.components), { withFileTypes: true })
    .map((d) => ({ name: d.name, type: fileTypeOf(d) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return [
    { name: '.', type: FileType.directory },
    { name: '..', type: FileType.directory },
    ...names,
  ];
}

function inoOf(dirPath: string, name: string, dir: DirEntry): bigint {
  // `..` of the sandbox root is the root itself: nothing above it is shown.
  const path = name === '..' && dir.components.length === 0 ? dirPath : join(dirPath, name);
  try {
    return lstatBig(path).ino;
  } catch {
    return 0n; // removed since the listing was taken
  }
}
