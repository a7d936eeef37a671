// Our WASI preview 1 host (runs inside a task worker): args, environ, clocks, random, stdout and
// stderr as bounded log lines, poll_oneoff sleeping, and files confined to the sandbox directory.
/* eslint-disable max-params -- WASI preview 1 fixes these signatures: the ABI, not an API of ours. */
import { randomFillSync } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  readdirSync,
  renameSync,
  rmdirSync,
  statSync,
  unlinkSync,
  writeSync,
  constants as fsConstants,
  type Stats,
} from 'node:fs';
import { createLineSplitter } from '../line-splitter.js';
import { resolveSandboxPath } from './sandbox-path.js';
import { Errno, WasiError, errnoOf } from './wasi-errno.js';

/** Thrown by `proc_exit` to unwind the guest; carries the exit code. */
export class ProcExit extends Error {
  constructor(readonly code: number) {
    super(`proc_exit(${code})`);
  }
}

/** Thrown out of a sleep when the driver asked the task to stop. */
export class StopRequested extends Error {}

export interface WasiHostOptions {
  args: string[];
  env: Record<string, string>;
  sandboxDir: string;
  maxLogLineBytes: number;
  /** Bytes the task may add to its sandbox. */
  diskQuotaBytes: number;
  /** Index 0 becomes non-zero when the driver wants the task to stop; sleeps wait on it. */
  control: Int32Array;
  onLog: (stream: 'stdout' | 'stderr', lines: string[]) => void;
  /**
   * Replaces the blocking sleep of `poll_oneoff` (resumable tasks): returns true once the sleep
   * is over, false when it suspended the guest instead (poll_oneoff then returns at once).
   */
  sleep?: (ms: number) => boolean;
  /**
   * Charges a host call's work to the task's fuel counter (`fuel-cost.ts`: a fixed part per call
   * plus a part per byte touched). Only decrements the counter; never throws. The guest's next
   * fuel check acts on it (traps as OUT_OF_FUEL, or yields the thread at a slice's end).
   */
  chargeFuel?: (units: number) => void;
}

export interface WasiHost {
  /** The `wasi_snapshot_preview1` import object. */
  imports: Record<string, (...args: never[]) => unknown>;
  /** Must be called with the instance's exported memory before `_start`. */
  setMemory(memory: WebAssembly.Memory): void;
  /** Emits unfinished log lines and closes every open file. */
  close(): void;
}

type FdEntry =
  | { kind: 'stdio'; stream?: 'stdout' | 'stderr' }
  | { kind: 'dir'; components: string[]; preopen?: string }
  | { kind: 'file'; hostFd: number; hostPath: string; position: number; isAppend: boolean };

const FILETYPE = { unknown: 0, charDevice: 2, directory: 3, regular: 4, symlink: 7 } as const;
const RIGHTS_ALL = 0x1fffffffn;
const OFLAGS = { creat: 1, directory: 2, excl: 4, trunc: 8 } as const;
const FDFLAG_APPEND = 1;
const RIGHT_FD_READ = 0x2n;
const RIGHT_FD_WRITE = 0x40n;
const NS_PER_MS = 1_000_000n;
const MAX_FDS = 1024;

function fileTypeOf(stat: Stats): number {
  if (stat.isDirectory()) return FILETYPE.directory;
  if (stat.isFile()) return FILETYPE.regular;
  if (stat.isSymbolicLink()) return FILETYPE.symlink;
  if (stat.isCharacterDevice()) return FILETYPE.charDevice;
  return FILETYPE.unknown;
}

/** Shared by every host of the thread: both are stateless as used here, and cost per creation. */
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

/** Builds the host for one task run. */
export function createWasiHost(options: WasiHostOptions): WasiHost {
  const root = options.sandboxDir;
  const argBytes = options.args.map((a) => encoder.encode(`${a}\0`));
  const envBytes = Object.entries(options.env).map(([k, v]) => encoder.encode(`${k}=${v}\0`));
  const splitters = {
    stdout: createLineSplitter({ maxLineBytes: options.maxLogLineBytes }),
    stderr: createLineSplitter({ maxLineBytes: options.maxLogLineBytes }),
  };
  const fds = new Map<number, FdEntry>([
    [0, { kind: 'stdio' }],
    [1, { kind: 'stdio', stream: 'stdout' }],
    [2, { kind: 'stdio', stream: 'stderr' }],
    [3, { kind: 'dir', components: [], preopen: '/' }],
  ]);
  let diskLeft = options.diskQuotaBytes;
  let memory: WebAssembly.Memory | undefined;
  let view = new DataView(new ArrayBuffer(0));
  let bytes = new Uint8Array(0);

  const mem = (): DataView => {
    const buffer = memory?.buffer;
    if (!buffer) throw new WasiError(Errno.FAULT);
    if (view.buffer !== buffer) {
      view = new DataView(buffer);
      bytes = new Uint8Array(buffer);
    }
    return view;
  };
  const u8 = (): Uint8Array => {
    mem();
    return bytes;
  };
  const slice = (ptr: number, len: number): Uint8Array => {
    const b = u8();
    if (ptr + len > b.length) throw new WasiError(Errno.FAULT);
    return b.subarray(ptr, ptr + len);
  };
  const readString = (ptr: number, len: number): string =>
    decoder.decode(slice(ptr >>> 0, len >>> 0));
  const fdOf = (fd: number): FdEntry => {
    const entry = fds.get(fd);
    if (!entry) throw new WasiError(Errno.BADF);
    return entry;
  };
  const dirOf = (fd: number): Extract<FdEntry, { kind: 'dir' }> => {
    const entry = fdOf(fd);
    if (entry.kind !== 'dir') throw new WasiError(Errno.NOTDIR);
    return entry;
  };
  const fileOf = (fd: number): Extract<FdEntry, { kind: 'file' }> => {
    const entry = fdOf(fd);
    if (entry.kind === 'dir') throw new WasiError(Errno.ISDIR);
    if (entry.kind !== 'file') throw new WasiError(Errno.SPIPE);
    return entry;
  };
  const resolve = (dirFd: number, ptr: number, len: number, isLinkAllowed = false) =>
    resolveSandboxPath({
      root,
      base: dirOf(dirFd).components,
      path: readString(ptr, len),
      isLinkAllowed,
    });
  const iovecs = (ptr: number, count: number): Uint8Array[] => {
    const v = mem();
    const out: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      out.push(slice(v.getUint32(ptr + i * 8, true), v.getUint32(ptr + i * 8 + 4, true)));
    }
    return out;
  };
  const writeFilestat = (ptr: number, stat: Stats): void => {
    const v = mem();
    if (ptr + 64 > v.byteLength) throw new WasiError(Errno.FAULT);
    v.setBigUint64(ptr, BigInt(stat.dev), true);
    v.setBigUint64(ptr + 8, BigInt(stat.ino), true);
    v.setUint8(ptr + 16, fileTypeOf(stat));
    v.setBigUint64(ptr + 24, BigInt(stat.nlink), true);
    v.setBigUint64(ptr + 32, BigInt(stat.size), true);
    v.setBigUint64(ptr + 40, BigInt(Math.trunc(stat.atimeMs)) * NS_PER_MS, true);
    v.setBigUint64(ptr + 48, BigInt(Math.trunc(stat.mtimeMs)) * NS_PER_MS, true);
    v.setBigUint64(ptr + 56, BigInt(Math.trunc(stat.ctimeMs)) * NS_PER_MS, true);
  };
  const chargeDisk = (growth: number): void => {
    if (growth <= 0) return;
    if (growth > diskLeft) throw new WasiError(Errno.DQUOT);
    diskLeft -= growth;
  };
  const writeFile = (
    file: Extract<FdEntry, { kind: 'file' }>,
    chunks: Uint8Array[],
    at?: number,
  ) => {
    const size = fstatSync(file.hostFd).size;
    let position = at ?? (file.isAppend ? size : file.position);
    const total = chunks.reduce((n, c) => n + c.length, 0);
    chargeDisk(position + total - size);
    let written = 0;
    for (const chunk of chunks) {
      const n = writeSync(file.hostFd, chunk, 0, chunk.length, position);
      written += n;
      position += n;
    }
    if (at === undefined) file.position = position;
    return written;
  };
  const readFile = (
    file: Extract<FdEntry, { kind: 'file' }>,
    chunks: Uint8Array[],
    at?: number,
  ) => {
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
  };
  const sleepMs = (ms: number): boolean => {
    if (options.sleep) return options.sleep(ms);
    if (ms <= 0) return true;
    // Wakes early when the driver sets the stop flag (stop, timeout), so a sleeping task ends fast.
    if (Atomics.wait(options.control, 0, 0, ms) !== 'timed-out') throw new StopRequested();
    return true;
  };
  const nowNs = (clockId: number): bigint => {
    if (clockId === 0)
      return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
    if (clockId >= 1 && clockId <= 3) return process.hrtime.bigint();
    throw new WasiError(Errno.INVAL);
  };
  const ok = Errno.SUCCESS;

  const calls: Record<string, (...args: never[]) => number | void> = {
    args_sizes_get(argcPtr: number, sizePtr: number) {
      mem().setUint32(argcPtr, argBytes.length, true);
      mem().setUint32(
        sizePtr,
        argBytes.reduce((n, b) => n + b.length, 0),
        true,
      );
      return ok;
    },
    args_get(argvPtr: number, bufPtr: number) {
      return writeStrings(argBytes, argvPtr, bufPtr);
    },
    environ_sizes_get(countPtr: number, sizePtr: number) {
      mem().setUint32(countPtr, envBytes.length, true);
      mem().setUint32(
        sizePtr,
        envBytes.reduce((n, b) => n + b.length, 0),
        true,
      );
      return ok;
    },
    environ_get(environPtr: number, bufPtr: number) {
      return writeStrings(envBytes, environPtr, bufPtr);
    },
    clock_res_get(clockId: number, resPtr: number) {
      nowNs(clockId);
      mem().setBigUint64(resPtr, clockId === 0 ? 1000n : 1n, true);
      return ok;
    },
    clock_time_get(clockId: number, _precision: bigint, timePtr: number) {
      mem().setBigUint64(timePtr, nowNs(clockId), true);
      return ok;
    },
    random_get(ptr: number, len: number) {
      randomFillSync(slice(ptr, len));
      return ok;
    },
    sched_yield() {
      return ok;
    },
    proc_exit(code: number) {
      throw new ProcExit(code >>> 0);
    },
    proc_raise() {
      return Errno.NOSYS;
    },
    poll_oneoff(inPtr: number, outPtr: number, count: number, countOutPtr: number) {
      if (count === 0) return Errno.INVAL;
      const v = mem();
      if (inPtr + count * 48 > v.byteLength || outPtr + count * 32 > v.byteLength)
        return Errno.FAULT;
      const now = process.hrtime.bigint();
      const subs: { userdata: bigint; type: number; deadline?: bigint; error: number }[] = [];
      for (let i = 0; i < count; i++) {
        const at = inPtr + i * 48;
        const userdata = v.getBigUint64(at, true);
        const type = v.getUint8(at + 8);
        if (type === 0) {
          const clockId = v.getUint32(at + 16, true);
          const timeout = v.getBigUint64(at + 24, true);
          const isAbsolute = (v.getUint16(at + 40, true) & 1) === 1;
          const deadline = isAbsolute ? now + (timeout - nowNs(clockId)) : now + timeout;
          subs.push({ userdata, type, deadline, error: 0 });
        } else {
          const entry = fds.get(v.getUint32(at + 16, true));
          subs.push({ userdata, type, error: entry ? ok : Errno.BADF });
        }
      }
      // Files and stdio are always ready; only when nothing is, sleep until the first deadline.
      let ready = subs.filter((s) => s.type !== 0);
      if (ready.length === 0) {
        const first = subs.reduce(
          (m, s) => (s.deadline !== undefined && s.deadline < m ? s.deadline : m),
          subs[0]?.deadline ?? now,
        );
        const ms = Number((first - now) / NS_PER_MS) + ((first - now) % NS_PER_MS > 0n ? 1 : 0);
        // A suspended guest unwinds now and calls again once resumed (that call completes).
        if (!sleepMs(ms)) return ok;
        // Slept until the first deadline: the subscriptions due by then fire.
        ready = subs.filter((s) => s.deadline !== undefined && s.deadline <= first);
      }
      ready.forEach((s, i) => {
        const at = outPtr + i * 32;
        v.setBigUint64(at, s.userdata, true);
        v.setUint16(at + 8, s.error, true);
        v.setUint8(at + 10, s.type);
        v.setBigUint64(at + 16, 0n, true);
        v.setUint16(at + 24, 0, true);
      });
      v.setUint32(countOutPtr, ready.length, true);
      return ok;
    },
    fd_write(fd: number, iovsPtr: number, iovsLen: number, nwrittenPtr: number) {
      const entry = fdOf(fd);
      const chunks = iovecs(iovsPtr, iovsLen);
      let written = 0;
      if (entry.kind === 'stdio') {
        if (!entry.stream) return Errno.BADF;
        const lines: string[] = [];
        for (const chunk of chunks) {
          lines.push(...splitters[entry.stream].push(chunk));
          written += chunk.length;
        }
        if (lines.length > 0) options.onLog(entry.stream, lines);
      } else {
        written = writeFile(fileOf(fd), chunks);
      }
      mem().setUint32(nwrittenPtr, written, true);
      return ok;
    },
    fd_pwrite(fd: number, iovsPtr: number, iovsLen: number, offset: bigint, nwrittenPtr: number) {
      const written = writeFile(fileOf(fd), iovecs(iovsPtr, iovsLen), Number(offset));
      mem().setUint32(nwrittenPtr, written, true);
      return ok;
    },
    fd_read(fd: number, iovsPtr: number, iovsLen: number, nreadPtr: number) {
      const entry = fdOf(fd);
      const read = entry.kind === 'stdio' ? 0 : readFile(fileOf(fd), iovecs(iovsPtr, iovsLen));
      mem().setUint32(nreadPtr, read, true);
      return ok;
    },
    fd_pread(fd: number, iovsPtr: number, iovsLen: number, offset: bigint, nreadPtr: number) {
      const read = readFile(fileOf(fd), iovecs(iovsPtr, iovsLen), Number(offset));
      mem().setUint32(nreadPtr, read, true);
      return ok;
    },
    fd_seek(fd: number, offset: bigint, whence: number, newOffsetPtr: number) {
      const file = fileOf(fd);
      const base =
        whence === 0
          ? 0
          : whence === 1
            ? file.position
            : whence === 2
              ? fstatSync(file.hostFd).size
              : -1;
      if (base < 0) return Errno.INVAL;
      const position = base + Number(offset);
      if (position < 0) return Errno.INVAL;
      file.position = position;
      mem().setBigUint64(newOffsetPtr, BigInt(position), true);
      return ok;
    },
    fd_tell(fd: number, offsetPtr: number) {
      mem().setBigUint64(offsetPtr, BigInt(fileOf(fd).position), true);
      return ok;
    },
    fd_close(fd: number) {
      const entry = fdOf(fd);
      if (entry.kind === 'dir' && entry.preopen) return Errno.NOTSUP;
      if (entry.kind === 'file') closeSync(entry.hostFd);
      fds.delete(fd);
      return ok;
    },
    fd_fdstat_get(fd: number, ptr: number) {
      const entry = fdOf(fd);
      const v = mem();
      const type =
        entry.kind === 'stdio'
          ? FILETYPE.charDevice
          : entry.kind === 'dir'
            ? FILETYPE.directory
            : FILETYPE.regular;
      v.setUint8(ptr, type);
      v.setUint16(ptr + 2, entry.kind === 'file' && entry.isAppend ? FDFLAG_APPEND : 0, true);
      v.setBigUint64(ptr + 8, RIGHTS_ALL, true);
      v.setBigUint64(ptr + 16, RIGHTS_ALL, true);
      return ok;
    },
    fd_fdstat_set_flags(fd: number, flags: number) {
      const entry = fdOf(fd);
      if (entry.kind === 'file') entry.isAppend = (flags & FDFLAG_APPEND) !== 0;
      return ok;
    },
    fd_fdstat_set_rights() {
      return ok;
    },
    fd_filestat_get(fd: number, ptr: number) {
      const entry = fdOf(fd);
      if (entry.kind === 'stdio') {
        new Uint8Array(mem().buffer, ptr, 64).fill(0);
        mem().setUint8(ptr + 16, FILETYPE.charDevice);
        return ok;
      }
      const stat =
        entry.kind === 'file' ? fstatSync(entry.hostFd) : statSync(hostPathOf(entry.components));
      writeFilestat(ptr, stat);
      return ok;
    },
    fd_filestat_set_size(fd: number, size: bigint) {
      const file = fileOf(fd);
      chargeDisk(Number(size) - fstatSync(file.hostFd).size);
      ftruncateSync(file.hostFd, Number(size));
      return ok;
    },
    fd_filestat_set_times() {
      return ok;
    },
    fd_advise() {
      return ok;
    },
    fd_allocate(fd: number, offset: bigint, len: bigint) {
      const file = fileOf(fd);
      const size = fstatSync(file.hostFd).size;
      const end = Number(offset + len);
      if (end > size) {
        chargeDisk(end - size);
        ftruncateSync(file.hostFd, end);
      }
      return ok;
    },
    fd_datasync() {
      return ok;
    },
    fd_sync() {
      return ok;
    },
    fd_renumber(from: number, to: number) {
      const entry = fdOf(from);
      const target = fdOf(to);
      if ((entry.kind === 'dir' && entry.preopen) || (target.kind === 'dir' && target.preopen))
        return Errno.NOTSUP;
      if (target.kind === 'file') closeSync(target.hostFd);
      fds.set(to, entry);
      fds.delete(from);
      return ok;
    },
    fd_prestat_get(fd: number, ptr: number) {
      const entry = fds.get(fd);
      if (!entry || entry.kind !== 'dir' || !entry.preopen) return Errno.BADF;
      mem().setUint8(ptr, 0);
      mem().setUint32(ptr + 4, encoder.encode(entry.preopen).length, true);
      return ok;
    },
    fd_prestat_dir_name(fd: number, ptr: number, len: number) {
      const entry = fds.get(fd);
      if (!entry || entry.kind !== 'dir' || !entry.preopen) return Errno.BADF;
      const name = encoder.encode(entry.preopen);
      if (len < name.length) return Errno.NAMETOOLONG;
      slice(ptr, name.length).set(name);
      return ok;
    },
    fd_readdir(fd: number, buf: number, bufLen: number, cookie: bigint, usedPtr: number) {
      const dir = dirOf(fd);
      const entries = readdirSync(hostPathOf(dir.components), { withFileTypes: true }).sort(
        (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
      );
      const out = slice(buf, bufLen);
      let used = 0;
      for (let i = Number(cookie); i < entries.length && used < bufLen; i++) {
        const entry = entries[i];
        if (!entry) break;
        const name = encoder.encode(entry.name);
        const record = new Uint8Array(24 + name.length);
        const rv = new DataView(record.buffer);
        rv.setBigUint64(0, BigInt(i + 1), true);
        rv.setBigUint64(8, BigInt(i + 1), true);
        rv.setUint32(16, name.length, true);
        const type = entry.isDirectory()
          ? FILETYPE.directory
          : entry.isFile()
            ? FILETYPE.regular
            : entry.isSymbolicLink()
              ? FILETYPE.symlink
              : FILETYPE.unknown;
        rv.setUint8(20, type);
        record.set(name, 24);
        const n = Math.min(record.length, bufLen - used);
        out.set(record.subarray(0, n), used);
        used += n;
      }
      mem().setUint32(usedPtr, used, true);
      return ok;
    },
    path_open(
      dirFd: number,
      _dirflags: number,
      pathPtr: number,
      pathLen: number,
      oflags: number,
      rightsBase: bigint,
      _rightsInheriting: bigint,
      fdflags: number,
      fdPtr: number,
    ) {
      if (fds.size >= MAX_FDS) return Errno.MFILE;
      const target = resolve(dirFd, pathPtr, pathLen);
      let stat: Stats | undefined;
      try {
        stat = lstatSync(target.hostPath);
      } catch {
        stat = undefined;
      }
      let entry: FdEntry;
      if (stat?.isDirectory()) {
        if (oflags & (OFLAGS.creat | OFLAGS.excl) && oflags & OFLAGS.excl) return Errno.EXIST;
        if (rightsBase & RIGHT_FD_WRITE && !(oflags & OFLAGS.directory)) return Errno.ISDIR;
        entry = { kind: 'dir', components: target.components };
      } else {
        if (oflags & OFLAGS.directory) return stat ? Errno.NOTDIR : Errno.NOENT;
        if (target.components.length === 0) return Errno.ISDIR;
        const isWrite = (rightsBase & RIGHT_FD_WRITE) !== 0n;
        const isRead = (rightsBase & RIGHT_FD_READ) !== 0n || !isWrite;
        let flags = fsConstants.O_NOFOLLOW;
        flags |= isWrite
          ? isRead
            ? fsConstants.O_RDWR
            : fsConstants.O_WRONLY
          : fsConstants.O_RDONLY;
        if (oflags & OFLAGS.creat) flags |= fsConstants.O_CREAT;
        if (oflags & OFLAGS.excl) flags |= fsConstants.O_EXCL;
        if (oflags & OFLAGS.trunc) flags |= fsConstants.O_TRUNC;
        const hostFd = openSync(target.hostPath, flags, 0o644);
        entry = {
          kind: 'file',
          hostFd,
          hostPath: target.hostPath,
          position: 0,
          isAppend: (fdflags & FDFLAG_APPEND) !== 0,
        };
      }
      let fd = 4;
      while (fds.has(fd)) fd++;
      fds.set(fd, entry);
      mem().setUint32(fdPtr, fd, true);
      return ok;
    },
    path_filestat_get(dirFd: number, flags: number, pathPtr: number, pathLen: number, ptr: number) {
      // Without SYMLINK_FOLLOW (flag 1) the link itself is described; following is refused.
      const target = resolve(dirFd, pathPtr, pathLen, (flags & 1) === 0);
      writeFilestat(ptr, lstatSync(target.hostPath));
      return ok;
    },
    path_filestat_set_times() {
      return ok;
    },
    path_create_directory(dirFd: number, pathPtr: number, pathLen: number) {
      mkdirSync(resolve(dirFd, pathPtr, pathLen).hostPath);
      return ok;
    },
    path_remove_directory(dirFd: number, pathPtr: number, pathLen: number) {
      const target = resolve(dirFd, pathPtr, pathLen);
      if (target.components.length === 0) return Errno.PERM;
      rmdirSync(target.hostPath);
      return ok;
    },
    path_unlink_file(dirFd: number, pathPtr: number, pathLen: number) {
      const target = resolve(dirFd, pathPtr, pathLen, true);
      const stat = lstatSync(target.hostPath);
      if (stat.isDirectory()) return Errno.ISDIR;
      unlinkSync(target.hostPath);
      if (stat.nlink <= 1) diskLeft += stat.size;
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
      const from = resolve(fromFd, fromPtr, fromLen, true);
      const to = resolve(toFd, toPtr, toLen);
      if (from.components.length === 0 || to.components.length === 0) return Errno.PERM;
      renameSync(from.hostPath, to.hostPath);
      return ok;
    },
    path_readlink() {
      return Errno.NOTCAPABLE;
    },
    path_symlink() {
      return Errno.PERM;
    },
    path_link() {
      return Errno.PERM;
    },
    sock_accept() {
      return Errno.NOSYS;
    },
    sock_recv() {
      return Errno.NOSYS;
    },
    sock_send() {
      return Errno.NOSYS;
    },
    sock_shutdown() {
      return Errno.NOSYS;
    },
  };

  function writeStrings(strings: Uint8Array[], ptrsPtr: number, bufPtr: number): number {
    const v = mem();
    let at = bufPtr;
    strings.forEach((s, i) => {
      v.setUint32(ptrsPtr + i * 4, at, true);
      slice(at, s.length).set(s);
      at += s.length;
    });
    return ok;
  }

  function hostPathOf(components: string[]): string {
    return resolveSandboxPath({ root, base: components, path: '.' }).hostPath;
  }

  // Guest mistakes become errnos, never host crashes: a bad pointer is EFAULT, fs errors map.
  const imports: Record<string, (...args: never[]) => unknown> = {};
  for (const [name, fn] of Object.entries(calls)) {
    imports[name] = (...args: never[]) => {
      try {
        return fn(...args);
      } catch (error) {
        if (error instanceof ProcExit || error instanceof StopRequested) throw error;
        if (error instanceof WasiError) return error.errno;
        if (error instanceof RangeError) return Errno.FAULT;
        return errnoOf(error);
      }
    };
  }

  return {
    imports,
    setMemory(m) {
      memory = m;
    },
    close() {
      for (const stream of ['stdout', 'stderr'] as const) {
        const lines = splitters[stream].flush();
        if (lines.length > 0) options.onLog(stream, lines);
      }
      for (const entry of fds.values()) {
        if (entry.kind === 'file') {
          try {
            closeSync(entry.hostFd);
          } catch {
            // already closed by the guest through a renumber race; nothing to free
          }
        }
      }
      fds.clear();
    },
  };
}
