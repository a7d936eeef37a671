// File types and stats as WASI describes them, and setting file times exactly: Node sets times
// through libuv at microsecond resolution, so the host remembers the nanoseconds a task set and
// reports them while the file still has the time that was written.
import { futimesSync, lstatSync, lutimesSync, fstatSync, type BigIntStats } from 'node:fs';
import { Errno, WasiError } from '../wasi-errno.js';
import { setNewest } from '../../../lib/bounded-map.js';

export const FileType = {
  unknown: 0,
  blockDevice: 1,
  charDevice: 2,
  directory: 3,
  regular: 4,
  symlink: 7,
} as const;

/** The WASI filetype of a stat. */
export function fileTypeOf(stat: {
  isDirectory(): boolean;
  isFile(): boolean;
  isSymbolicLink(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}): number {
  if (stat.isDirectory()) return FileType.directory;
  if (stat.isFile()) return FileType.regular;
  if (stat.isSymbolicLink()) return FileType.symlink;
  if (stat.isCharacterDevice()) return FileType.charDevice;
  if (stat.isBlockDevice()) return FileType.blockDevice;
  return FileType.unknown;
}

const FST = { ATIM: 1, ATIM_NOW: 2, MTIM: 4, MTIM_NOW: 8 } as const;
/** Inodes whose exact times are remembered; the oldest is forgotten past this. */
const MAX_REMEMBERED = 1024;

interface Remembered {
  /** The time on disk after the set (µs resolution) and the nanoseconds the task asked for. */
  atimeOnDisk: bigint;
  atimeNs: bigint;
  mtimeOnDisk: bigint;
  mtimeNs: bigint;
}

/** How a time is set: on an open fd, or on a resolved path (links already followed or not). */
export type TimesTarget = { hostFd: number } | { hostPath: string };

/** Exact file times for one task. */
export interface FileTimes {
  /** The 64-byte WASI filestat of `stat` at `ptr`. */
  writeFilestat(view: DataView, ptr: number, stat: BigIntStats): void;
  /** fd_filestat_set_times / path_filestat_set_times (EINVAL for contradictory flags). */
  set(target: TimesTarget, times: { atimNs: bigint; mtimNs: bigint; fstFlags: number }): void;
}

export function createFileTimes(): FileTimes {
  const remembered = new Map<string, Remembered>();
  const keyOf = (stat: BigIntStats) => `${stat.dev}:${stat.ino}`;
  const statOf = (target: TimesTarget): BigIntStats =>
    'hostFd' in target
      ? fstatSync(target.hostFd, { bigint: true })
      : lstatSync(target.hostPath, { bigint: true });
  const exact = (stat: BigIntStats) => {
    const r = remembered.get(keyOf(stat));
    return {
      atimeNs: r && r.atimeOnDisk === stat.atimeNs ? r.atimeNs : stat.atimeNs,
      mtimeNs: r && r.mtimeOnDisk === stat.mtimeNs ? r.mtimeNs : stat.mtimeNs,
    };
  };
  return {
    writeFilestat(view, ptr, stat) {
      if (ptr >>> 0 !== ptr || ptr + 64 > view.byteLength) throw new WasiError(Errno.FAULT);
      const times = exact(stat);
      view.setBigUint64(ptr, stat.dev, true);
      view.setBigUint64(ptr + 8, stat.ino, true);
      view.setUint8(ptr + 16, fileTypeOf(stat));
      view.setBigUint64(ptr + 24, stat.nlink, true);
      view.setBigUint64(ptr + 32, stat.size, true);
      view.setBigUint64(ptr + 40, times.atimeNs, true);
      view.setBigUint64(ptr + 48, times.mtimeNs, true);
      view.setBigUint64(ptr + 56, stat.ctimeNs, true);
    },
    set(target, { atimNs, mtimNs, fstFlags }) {
      if (
        (fstFlags & FST.ATIM && fstFlags & FST.ATIM_NOW) ||
        (fstFlags & FST.MTIM && fstFlags & FST.MTIM_NOW)
      ) {
        throw new WasiError(Errno.INVAL);
      }
      if (fstFlags & ~0xf) throw new WasiError(Errno.INVAL);
      const before = statOf(target);
      const old = exact(before);
      const nowNs = BigInt(Date.now()) * 1_000_000n;
      const atimeNs = fstFlags & FST.ATIM ? atimNs : fstFlags & FST.ATIM_NOW ? nowNs : old.atimeNs;
      const mtimeNs = fstFlags & FST.MTIM ? mtimNs : fstFlags & FST.MTIM_NOW ? nowNs : old.mtimeNs;
      const seconds = (ns: bigint) => Number(ns / 1000n) / 1e6;
      if ('hostFd' in target) futimesSync(target.hostFd, seconds(atimeNs), seconds(mtimeNs));
      else lutimesSync(target.hostPath, seconds(atimeNs), seconds(mtimeNs));
      const after = statOf(target);
      const key = keyOf(after);
      setNewest(
        remembered,
        [key, { atimeOnDisk: after.atimeNs, atimeNs, mtimeOnDisk: after.mtimeNs, mtimeNs }],
        MAX_REMEMBERED,
      );
    },
  };
}
