// WASI calls on open fds: read, write, seek, stat, sync, rights, renumber, close and the
// preopen's name. Writes are checked against the disk quota before they happen, and every
// offset is validated (no unbounded writes).
/* eslint-disable max-params -- WASI preview 1 fixes these signatures: the ABI, not an API of ours. */
import {
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  lstatSync,
  readSync,
  writeSync,
} from 'node:fs';
import { Errno } from '../wasi-errno.js';
import { allocatedBytes, MAX_FILE_BYTES } from './disk-quota.js';
import { FdFlag, Right, type FdEntry, type FileEntry } from './fd-table.js';
import { FileType } from './file-times.js';
import { fileOffset, hostPathOf, releaseFile, type FsContext } from './fs-context.js';

const ok = Errno.SUCCESS;

function writeFile(ctx: FsContext, file: FileEntry, chunks: Uint8Array[], at?: number): number {
  const before = fstatSync(file.hostFd, { bigint: true });
  let position = at ?? (file.fdflags & FdFlag.APPEND ? Number(before.size) : file.position);
  const total = chunks.reduce((n, c) => n + c.length, 0);
  fileOffset(position, total);
  // Checked before anything is written: a write that would not fit is refused whole.
  ctx.disk.ensure(ctx.disk.writeGrowth(before, position, total));
  let written = 0;
  try {
    for (const chunk of chunks) {
      const n = writeSync(file.hostFd, chunk, 0, chunk.length, position);
      written += n;
      position += n;
      if (n < chunk.length) break;
    }
  } finally {
    ctx.disk.add(allocatedBytes(fstatSync(file.hostFd, { bigint: true })) - allocatedBytes(before));
  }
  if (at === undefined) file.position = position;
  return written;
}

function readFile(file: FileEntry, chunks: Uint8Array[], at?: number): number {
  let position = at ?? file.position;
  let read = 0;
  for (const chunk of chunks) {
    const n = readSync(file.hostFd, chunk, 0, chunk.length, position);
    read += n;
    position += n;
    if (n < chunk.length) break;
  }
  if (at === undefined) file.position = position;
  return read;
}

/** Changes a file's size through `change`, charging what that really allocates or frees. */
function resize(ctx: FsContext, file: FileEntry, change: () => void): void {
  const before = allocatedBytes(fstatSync(file.hostFd, { bigint: true }));
  try {
    change();
  } finally {
    ctx.disk.add(allocatedBytes(fstatSync(file.hostFd, { bigint: true })) - before);
  }
}

function fileTypeOfEntry(entry: FdEntry): number {
  if (entry.kind === 'stdio') return FileType.charDevice;
  return entry.kind === 'dir' ? FileType.directory : FileType.regular;
}

/** The fd_* calls of the WASI import object. */
export function createFdCalls(ctx: FsContext): Record<string, (...args: never[]) => number> {
  const { fds, memory } = ctx;
  const readable = (fd: number): FileEntry => {
    const file = fds.file(fd);
    fds.require(file, Right.FD_READ, Errno.BADF);
    return file;
  };
  const writable = (fd: number): FileEntry => {
    const file = fds.file(fd);
    fds.require(file, Right.FD_WRITE, Errno.BADF);
    return file;
  };
  const closeEntry = (entry: FdEntry, close: () => void): void => {
    if (entry.kind === 'file') releaseFile(ctx, entry, close);
    else close();
  };
  return {
    fd_write(fd: number, iovsPtr: number, iovsLen: number, nwrittenPtr: number) {
      const entry = fds.get(fd);
      const chunks = memory.iovecs(iovsPtr, iovsLen);
      memory.check(nwrittenPtr, 4);
      let written: number;
      if (entry.kind === 'stdio') {
        if (!entry.stream) return Errno.BADF;
        written = ctx.stdio.write(entry.stream, chunks);
      } else {
        written = writeFile(ctx, writable(fd), chunks);
      }
      memory.view().setUint32(nwrittenPtr, written, true);
      return ok;
    },
    fd_pwrite(fd: number, iovsPtr: number, iovsLen: number, offset: bigint, nwrittenPtr: number) {
      const file = writable(fd);
      const at = fileOffset(offset);
      const chunks = memory.iovecs(iovsPtr, iovsLen);
      memory.check(nwrittenPtr, 4);
      memory.view().setUint32(nwrittenPtr, writeFile(ctx, file, chunks, at), true);
      return ok;
    },
    fd_read(fd: number, iovsPtr: number, iovsLen: number, nreadPtr: number) {
      const entry = fds.get(fd);
      const chunks = memory.iovecs(iovsPtr, iovsLen);
      memory.check(nreadPtr, 4);
      // stdin is empty (end of file) but in handler mode, where it holds the request body.
      let read: number;
      if (entry.kind === 'stdio') read = entry.stream ? 0 : ctx.stdio.readStdin(chunks);
      else read = readFile(readable(fd), chunks);
      memory.view().setUint32(nreadPtr, read, true);
      return ok;
    },
    fd_pread(fd: number, iovsPtr: number, iovsLen: number, offset: bigint, nreadPtr: number) {
      const file = readable(fd);
      const at = fileOffset(offset);
      const chunks = memory.iovecs(iovsPtr, iovsLen);
      memory.check(nreadPtr, 4);
      memory.view().setUint32(nreadPtr, readFile(file, chunks, at), true);
      return ok;
    },
    fd_seek(fd: number, offset: bigint, whence: number, newOffsetPtr: number) {
      const entry = fds.get(fd);
      if (entry.kind === 'dir') return Errno.BADF;
      const file = fds.file(fd);
      memory.check(newOffsetPtr, 8);
      let base: number;
      if (whence === 0) base = 0;
      else if (whence === 1) base = file.position;
      else if (whence === 2) base = Number(fstatSync(file.hostFd, { bigint: true }).size);
      else return Errno.INVAL;
      const position = BigInt(base) + BigInt(offset);
      if (position < 0n || position > BigInt(MAX_FILE_BYTES)) return Errno.INVAL;
      file.position = Number(position);
      memory.view().setBigUint64(newOffsetPtr, position, true);
      return ok;
    },
    fd_tell(fd: number, offsetPtr: number) {
      const file = fds.file(fd);
      memory.check(offsetPtr, 8);
      memory.view().setBigUint64(offsetPtr, BigInt(file.position), true);
      return ok;
    },
    fd_close(fd: number) {
      const entry = fds.get(fd);
      closeEntry(entry, () => fds.close(fd));
      return ok;
    },
    fd_renumber(from: number, to: number) {
      fds.get(from);
      const target = fds.get(to);
      if (from === to) return ok;
      closeEntry(target, () => fds.renumber(from, to));
      return ok;
    },
    fd_fdstat_get(fd: number, ptr: number) {
      const entry = fds.get(fd);
      memory.check(ptr, 24);
      const v = memory.view();
      v.setUint8(ptr, fileTypeOfEntry(entry));
      v.setUint8(ptr + 1, 0);
      v.setUint16(ptr + 2, entry.kind === 'file' ? entry.fdflags : 0, true);
      v.setUint32(ptr + 4, 0, true);
      v.setBigUint64(ptr + 8, entry.rightsBase, true);
      v.setBigUint64(ptr + 16, entry.rightsInheriting, true);
      return ok;
    },
    fd_fdstat_set_flags(fd: number, flags: number) {
      const entry = fds.get(fd);
      if (flags & ~0x1f) return Errno.INVAL;
      if (entry.kind === 'file') entry.fdflags = flags;
      return ok;
    },
    fd_fdstat_set_rights(fd: number, base: bigint, inheriting: bigint) {
      const entry = fds.get(fd);
      const b = BigInt.asUintN(64, base);
      const i = BigInt.asUintN(64, inheriting);
      // Rights only ever shrink.
      if ((b & ~entry.rightsBase) !== 0n || (i & ~entry.rightsInheriting) !== 0n) {
        return Errno.NOTCAPABLE;
      }
      entry.rightsBase = b;
      entry.rightsInheriting = i;
      return ok;
    },
    fd_filestat_get(fd: number, ptr: number) {
      const entry = fds.get(fd);
      memory.check(ptr, 64);
      if (entry.kind === 'stdio' || entry.kind === 'socket') {
        memory.slice(ptr, 64).fill(0);
        memory.view().setUint8(ptr + 16, FileType.charDevice);
        return ok;
      }
      const stat =
        entry.kind === 'file'
          ? fstatSync(entry.hostFd, { bigint: true })
          : lstatSync(hostPathOf(ctx, entry.components), { bigint: true });
      ctx.times.writeFilestat(memory.view(), ptr, stat);
      return ok;
    },
    fd_filestat_set_size(fd: number, size: bigint) {
      const file = fds.file(fd);
      const bytes = fileOffset(size);
      // A larger size is a hole (nothing allocated); resize charges what really changed.
      resize(ctx, file, () => ftruncateSync(file.hostFd, bytes));
      return ok;
    },
    fd_filestat_set_times(fd: number, atim: bigint, mtim: bigint, fstFlags: number) {
      const entry = fds.get(fd);
      if (entry.kind === 'stdio' || entry.kind === 'socket') return Errno.BADF;
      const target =
        entry.kind === 'file'
          ? { hostFd: entry.hostFd }
          : { hostPath: hostPathOf(ctx, entry.components) };
      ctx.times.set(target, {
        atimNs: BigInt.asUintN(64, atim),
        mtimNs: BigInt.asUintN(64, mtim),
        fstFlags,
      });
      return ok;
    },
    fd_advise(fd: number, offset: bigint, len: bigint, advice: number) {
      fds.file(fd);
      fileOffset(offset);
      fileOffset(len);
      return advice >= 0 && advice <= 5 ? ok : Errno.INVAL;
    },
    fd_allocate(fd: number, offset: bigint, len: bigint) {
      const file = fds.file(fd);
      const end = fileOffset(offset, fileOffset(len)) + Number(len);
      const stat = fstatSync(file.hostFd, { bigint: true });
      const growth = end - Number(stat.size);
      if (growth > 0) {
        // Node has no fallocate: the size grows (a hole), charged by what that allocates.
        resize(ctx, file, () => ftruncateSync(file.hostFd, end));
      }
      return ok;
    },
    fd_datasync(fd: number) {
      const entry = fds.get(fd);
      if (entry.kind === 'file') fdatasyncSync(entry.hostFd);
      return ok;
    },
    fd_sync(fd: number) {
      const entry = fds.get(fd);
      if (entry.kind === 'file') fsyncSync(entry.hostFd);
      return ok;
    },
    fd_prestat_get(fd: number, ptr: number) {
      const entry = fds.get(fd);
      if (entry.kind !== 'dir' || entry.preopen === undefined) return Errno.BADF;
      memory.check(ptr, 8);
      memory.view().setUint32(ptr, 0, true);
      memory.view().setUint32(ptr + 4, Buffer.byteLength(entry.preopen), true);
      return ok;
    },
    fd_prestat_dir_name(fd: number, ptr: number, len: number) {
      const entry = fds.get(fd);
      if (entry.kind !== 'dir' || entry.preopen === undefined) return Errno.BADF;
      const name = Buffer.from(entry.preopen);
      if (len >>> 0 < name.length) return Errno.NAMETOOLONG;
      memory.slice(ptr, name.length).set(name);
      return ok;
    },
  };
}
