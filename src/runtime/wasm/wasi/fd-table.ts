// The task's file descriptors: stdio, the preopened sandbox root, directories and files it
// opened, each with its WASI rights (base rights say what the fd may do, inheriting rights cap
// what is opened through it).
import { closeSync } from 'node:fs';
import { Errno, WasiError } from '../wasi-errno.js';

/** WASI preview 1 rights bits used by the host. */
export const Right = {
  FD_DATASYNC: 1n << 0n,
  FD_READ: 1n << 1n,
  FD_SEEK: 1n << 2n,
  FD_FDSTAT_SET_FLAGS: 1n << 3n,
  FD_SYNC: 1n << 4n,
  FD_TELL: 1n << 5n,
  FD_WRITE: 1n << 6n,
  FD_ADVISE: 1n << 7n,
  FD_ALLOCATE: 1n << 8n,
  PATH_CREATE_DIRECTORY: 1n << 9n,
  PATH_CREATE_FILE: 1n << 10n,
  PATH_LINK_SOURCE: 1n << 11n,
  PATH_LINK_TARGET: 1n << 12n,
  PATH_OPEN: 1n << 13n,
  FD_READDIR: 1n << 14n,
  PATH_READLINK: 1n << 15n,
  PATH_RENAME_SOURCE: 1n << 16n,
  PATH_RENAME_TARGET: 1n << 17n,
  PATH_FILESTAT_GET: 1n << 18n,
  PATH_FILESTAT_SET_SIZE: 1n << 19n,
  PATH_FILESTAT_SET_TIMES: 1n << 20n,
  FD_FILESTAT_GET: 1n << 21n,
  FD_FILESTAT_SET_SIZE: 1n << 22n,
  FD_FILESTAT_SET_TIMES: 1n << 23n,
  PATH_SYMLINK: 1n << 24n,
  PATH_REMOVE_DIRECTORY: 1n << 25n,
  PATH_UNLINK_FILE: 1n << 26n,
  POLL_FD_READWRITE: 1n << 27n,
  SOCK_SHUTDOWN: 1n << 28n,
} as const;

const R = Right;
/** What a directory fd can do (never read, write, seek or truncate it as a file). */
export const DIRECTORY_RIGHTS =
  R.PATH_CREATE_DIRECTORY |
  R.PATH_CREATE_FILE |
  R.PATH_LINK_SOURCE |
  R.PATH_LINK_TARGET |
  R.PATH_OPEN |
  R.FD_READDIR |
  R.PATH_READLINK |
  R.PATH_RENAME_SOURCE |
  R.PATH_RENAME_TARGET |
  R.PATH_FILESTAT_GET |
  R.PATH_FILESTAT_SET_SIZE |
  R.PATH_FILESTAT_SET_TIMES |
  R.FD_FILESTAT_GET |
  R.FD_FILESTAT_SET_TIMES |
  R.PATH_SYMLINK |
  R.PATH_REMOVE_DIRECTORY |
  R.PATH_UNLINK_FILE |
  R.FD_FDSTAT_SET_FLAGS |
  R.FD_SYNC |
  R.FD_DATASYNC;
/** What a regular file fd can do. */
export const FILE_RIGHTS =
  R.FD_DATASYNC |
  R.FD_READ |
  R.FD_SEEK |
  R.FD_FDSTAT_SET_FLAGS |
  R.FD_SYNC |
  R.FD_TELL |
  R.FD_WRITE |
  R.FD_ADVISE |
  R.FD_ALLOCATE |
  R.FD_FILESTAT_GET |
  R.FD_FILESTAT_SET_SIZE |
  R.FD_FILESTAT_SET_TIMES |
  R.POLL_FD_READWRITE;
/** stdio is a character device: no seek or tell (isatty looks for exactly that). */
const STDIO_RIGHTS = FILE_RIGHTS & ~(R.FD_SEEK | R.FD_TELL);

/** fdflags bits. */
export const FdFlag = { APPEND: 1, DSYNC: 2, NONBLOCK: 4, RSYNC: 8, SYNC: 16 } as const;

interface Rights {
  rightsBase: bigint;
  rightsInheriting: bigint;
}
export type StdioEntry = Rights & { kind: 'stdio'; stream?: 'stdout' | 'stderr' };
export type DirEntry = Rights & {
  kind: 'dir';
  /** Real directories from the sandbox root to this one. */
  components: string[];
  /** The name given to the guest by fd_prestat_dir_name (the preopen only). */
  preopen?: string;
};
export type FileEntry = Rights & {
  kind: 'file';
  hostFd: number;
  /** Identity of the open inode, so an unlinked file stays charged while an fd holds it. */
  ino: bigint;
  position: number;
  fdflags: number;
};
/** A stream socket (socket mode): a preopened listener or a connection it accepted. */
export type SocketEntry = Rights & {
  kind: 'socket';
  /** Listener index (fd 3 + index when preopened); undefined for a connection. */
  listener?: number;
  /** The host's connection id (never shown to the guest). */
  conn?: number;
  fdflags: number;
};
export type FdEntry = StdioEntry | DirEntry | FileEntry | SocketEntry;

/** What a socket fd can do (wasmtime's preopened socket rights, plus writes and shutdown). */
export const SOCKET_RIGHTS =
  R.FD_READ |
  R.FD_WRITE |
  R.FD_FDSTAT_SET_FLAGS |
  R.FD_FILESTAT_GET |
  R.POLL_FD_READWRITE |
  R.SOCK_SHUTDOWN;

/** Most fds a task holds open (EMFILE past it): each one is a host fd. */
export const MAX_FDS = 1024;

/** The fd table of one task. */
export interface FdTable {
  /** The entry of `fd` (EBADF when closed). */
  get(fd: number): FdEntry;
  /** The entry when it is a directory (ENOTDIR otherwise). */
  dir(fd: number): DirEntry;
  /** The entry when it is a regular file (EISDIR for directories, ESPIPE for stdio). */
  file(fd: number): FileEntry;
  /** Fails with `errno` (ENOTCAPABLE by default) unless the fd's base rights hold `right`. */
  require(entry: FdEntry, right: bigint, errno?: Errno): void;
  /** Adds an entry under the lowest free number (EMFILE when full). */
  add(entry: FdEntry): number;
  /** Removes `fd` and closes its host fd; returns the entry. */
  close(fd: number): FdEntry;
  /** Moves `from` onto `to` (closing what `to` held). */
  renumber(from: number, to: number): void;
  /** Open file entries (for charging unlinked-but-open files). */
  files(): FileEntry[];
  /** Closes every host fd. */
  closeAll(): void;
  /** Closes every host fd and restores the table a task starts with (a reused host, wasi-host.ts). */
  reset(): void;
}

/**
 * The table a task starts with: stdin, stdout, stderr, then its `listeners` listening sockets
 * (fds 3…, as wasmtime's `--tcplisten`), then the sandbox as preopen `/` (fd 3 without sockets).
 */
export function createFdTable(listeners = 0): FdTable {
  const stdio = (stream?: 'stdout' | 'stderr'): StdioEntry => ({
    kind: 'stdio',
    stream,
    rightsBase: STDIO_RIGHTS,
    rightsInheriting: 0n,
  });
  const initial = (): [number, FdEntry][] => [
    [0, stdio()],
    [1, stdio('stdout')],
    [2, stdio('stderr')],
    ...Array.from({ length: listeners }, (_, i): [number, FdEntry] => [
      3 + i,
      {
        kind: 'socket',
        listener: i,
        fdflags: 0,
        rightsBase: SOCKET_RIGHTS,
        rightsInheriting: SOCKET_RIGHTS,
      },
    ]),
    [
      3 + listeners,
      {
        kind: 'dir',
        components: [],
        preopen: '/',
        rightsBase: DIRECTORY_RIGHTS,
        rightsInheriting: DIRECTORY_RIGHTS | FILE_RIGHTS,
      },
    ],
  ];
  const fds = new Map<number, FdEntry>(initial());
  const closeHost = (entry: FdEntry): void => {
    if (entry.kind === 'file') closeSync(entry.hostFd);
  };
  const table: FdTable = {
    get(fd) {
      const entry = fds.get(fd);
      if (!entry) throw new WasiError(Errno.BADF);
      return entry;
    },
    dir(fd) {
      const entry = table.get(fd);
      if (entry.kind !== 'dir') throw new WasiError(Errno.NOTDIR);
      return entry;
    },
    file(fd) {
      const entry = table.get(fd);
      if (entry.kind === 'dir') throw new WasiError(Errno.ISDIR);
      if (entry.kind !== 'file') throw new WasiError(Errno.SPIPE);
      return entry;
    },
    require(entry, right, errno = Errno.NOTCAPABLE) {
      if ((entry.rightsBase & right) !== right) throw new WasiError(errno);
    },
    add(entry) {
      if (fds.size >= MAX_FDS) throw new WasiError(Errno.MFILE);
      let fd = 3;
      while (fds.has(fd)) fd++;
      fds.set(fd, entry);
      return fd;
    },
    close(fd) {
      const entry = table.get(fd);
      fds.delete(fd);
      closeHost(entry);
      return entry;
    },
    renumber(from, to) {
      const entry = table.get(from);
      const target = table.get(to);
      if (from === to) return;
      fds.set(to, entry);
      fds.delete(from);
      closeHost(target);
    },
    files() {
      return [...fds.values()].filter((e): e is FileEntry => e.kind === 'file');
    },
    closeAll() {
      for (const entry of fds.values()) closeHost(entry);
      fds.clear();
    },
    reset() {
      table.closeAll();
      for (const [fd, entry] of initial()) fds.set(fd, entry);
    },
  };
  return table;
}
