// Socket mode: sock_accept, sock_recv, sock_send, sock_shutdown, and the fd_* calls that act on
// socket fds (read, write, fdstat, close, …), over the worker's mirror of the task's sockets
// (net-mirror.ts). A guest names sockets only by its own fd numbers: another task's connection
// cannot be reached from here. Copies are bounded by the guest's buffers, its memory and the
// window in flight; a blocking call waits through the task's `Waiter`.
/* eslint-disable max-params -- WASI preview 1 fixes these signatures: the ABI, not an API of ours. */
import { Errno, WasiError } from '../wasi-errno.js';
import { FdFlag, Right, type FdTable, type SocketEntry } from './fd-table.js';
import type { GuestMemory } from './guest-memory.js';
import type { NetMirror } from './net-mirror.js';
import type { Waiter } from './waiter.js';

/** WASI filetype of a stream socket. */
export const SOCKET_STREAM = 6;
/** A preopened socket answers fd_prestat_get with this tag (see `fd_prestat_get` below). */
const PRESTAT_NOT_DIR = 1;
/** One send takes at most this much (a short write; libc sends the rest). */
const MAX_SEND_BYTES = 64 * 1024;
const RECV_PEEK = 1;

type Call = (...args: never[]) => number;

/** The socket calls, and wrappers of `fdCalls` that act on socket fds before files. */
export function createSocketCalls(options: {
  memory: GuestMemory;
  fds: FdTable;
  net: NetMirror;
  waiter: Waiter;
  fdCalls: Record<string, Call>;
}): Record<string, Call> {
  const { memory, fds, net, waiter } = options;
  const socketOf = (fd: number): SocketEntry | undefined => {
    const entry = fds.get(fd);
    return entry.kind === 'socket' ? entry : undefined;
  };
  const connOf = (fd: number): { entry: SocketEntry; id: number } => {
    const entry = socketOf(fd);
    if (!entry) throw new WasiError(Errno.NOTSOCK);
    if (entry.conn === undefined) throw new WasiError(Errno.NOTCONN);
    return { entry, id: entry.conn };
  };
  const isBlocking = (entry: SocketEntry): boolean => (entry.fdflags & FdFlag.NONBLOCK) === 0;

  /** Runs `attempt` until it gives a result, waiting in between when the fd blocks. */
  const untilReady = (
    entry: SocketEntry,
    attempt: () => number | undefined,
    canWait = true,
  ): number => {
    for (;;) {
      const result = attempt();
      if (result !== undefined) return result;
      if (!isBlocking(entry) || !canWait) return Errno.AGAIN;
      // A resident guest unwinds here; the call is made again once traffic came.
      if (!waiter.wait(undefined, true)) return Errno.SUCCESS;
    }
  };

  const recv = (fd: number, iovsPtr: number, iovsLen: number, isPeek: boolean) => {
    const { entry, id } = connOf(fd);
    fds.require(entry, Right.FD_READ, Errno.BADF);
    const targets = memory.iovecsUncounted(iovsPtr, iovsLen);
    let read = 0;
    const errno = untilReady(entry, () => {
      if (net.readable(id) === 0 && !net.isEof(id)) return undefined;
      read = net.read(id, targets, isPeek);
      memory.addTouched(read);
      return Errno.SUCCESS;
    });
    return { errno, read };
  };
  const send = (fd: number, iovsPtr: number, iovsLen: number, canWait = true) => {
    const { entry, id } = connOf(fd);
    fds.require(entry, Right.FD_WRITE, Errno.BADF);
    const chunks = memory.iovecsUncounted(iovsPtr, iovsLen);
    let written = 0;
    const errno = untilReady(
      entry,
      () => {
        const room = net.writable(id);
        if (room < 0) return Errno.PIPE;
        if (room === 0) return undefined;
        written = net.send(id, chunks, Math.min(room, MAX_SEND_BYTES));
        memory.addTouched(written);
        return Errno.SUCCESS;
      },
      canWait,
    );
    return { errno, written };
  };
  const closeSocket = (entry: SocketEntry): void => {
    if (entry.conn !== undefined) net.close(entry.conn);
    else if (entry.listener !== undefined) net.closeListener(entry.listener);
  };
  const isResumed = (): boolean => waiter.resume();

  const { fdCalls } = options;
  const passOn = (name: string): Call => {
    const call = fdCalls[name];
    if (!call) throw new Error(`no fd call ${name}`);
    return call;
  };
  const fdRead = passOn('fd_read');
  const fdWrite = passOn('fd_write');
  const fdFdstatGet = passOn('fd_fdstat_get');
  const fdFdstatSetFlags = passOn('fd_fdstat_set_flags');
  const fdClose = passOn('fd_close');
  const fdRenumber = passOn('fd_renumber');
  const fdPrestatGet = passOn('fd_prestat_get');
  const fdFilestatGet = passOn('fd_filestat_get');
  const fdFilestatSetTimes = passOn('fd_filestat_set_times');

  return {
    sock_accept(fd: number, flags: number, fdOutPtr: number) {
      isResumed();
      const entry = socketOf(fd);
      if (!entry) return Errno.NOTSOCK;
      const listener = entry.listener;
      if (listener === undefined) return Errno.INVAL;
      if ((flags & ~FdFlag.NONBLOCK) !== 0) return Errno.INVAL;
      memory.check(fdOutPtr, 4);
      return untilReady(entry, () => {
        if (!net.hasPending(listener)) return undefined;
        const id = net.accept(listener);
        if (id === undefined) return undefined;
        let newFd: number;
        try {
          newFd = fds.add({
            kind: 'socket',
            conn: id,
            fdflags: flags & FdFlag.NONBLOCK,
            rightsBase: entry.rightsInheriting,
            rightsInheriting: entry.rightsInheriting,
          });
        } catch (error) {
          // No fd left (EMFILE): the connection cannot be held, so it is closed, not leaked.
          net.close(id);
          throw error;
        }
        memory.view().setUint32(fdOutPtr, newFd, true);
        return Errno.SUCCESS;
      });
    },
    sock_recv(
      fd: number,
      iovsPtr: number,
      iovsLen: number,
      riFlags: number,
      roLenPtr: number,
      roFlagsPtr: number,
    ) {
      isResumed();
      memory.check(roLenPtr, 4);
      memory.check(roFlagsPtr, 2);
      const { errno, read } = recv(fd, iovsPtr, iovsLen, (riFlags & RECV_PEEK) !== 0);
      if (errno !== Errno.SUCCESS) return errno;
      memory.view().setUint32(roLenPtr, read, true);
      memory.view().setUint16(roFlagsPtr, 0, true);
      return Errno.SUCCESS;
    },
    sock_send(fd: number, iovsPtr: number, iovsLen: number, _siFlags: number, soLenPtr: number) {
      isResumed();
      memory.check(soLenPtr, 4);
      const { errno, written } = send(fd, iovsPtr, iovsLen);
      if (errno !== Errno.SUCCESS) return errno;
      memory.view().setUint32(soLenPtr, written, true);
      return Errno.SUCCESS;
    },
    sock_shutdown(fd: number, how: number) {
      const entry = socketOf(fd);
      if (!entry) return Errno.NOTSOCK;
      if (how < 1 || how > 3) return Errno.INVAL;
      if (entry.conn === undefined) return Errno.NOTCONN;
      fds.require(entry, Right.SOCK_SHUTDOWN, Errno.NOTCAPABLE);
      // Twice is harmless: the host shuts each direction once.
      net.shutdown(entry.conn, how);
      return Errno.SUCCESS;
    },
    fd_read(fd: number, iovsPtr: number, iovsLen: number, nreadPtr: number) {
      isResumed();
      if (!socketOf(fd))
        return fdRead(fd as never, iovsPtr as never, iovsLen as never, nreadPtr as never);
      memory.check(nreadPtr, 4);
      const { errno, read } = recv(fd, iovsPtr, iovsLen, false);
      if (errno !== Errno.SUCCESS) return errno;
      memory.view().setUint32(nreadPtr, read, true);
      return Errno.SUCCESS;
    },
    fd_write(fd: number, iovsPtr: number, iovsLen: number, nwrittenPtr: number) {
      if (!socketOf(fd))
        return fdWrite(fd as never, iovsPtr as never, iovsLen as never, nwrittenPtr as never);
      memory.check(nwrittenPtr, 4);
      // fd_write is not made able to unwind (every printf reaches it: instrumenting them all
      // would slow every resident module), so a resident task's full window is EAGAIN here.
      const { errno, written } = send(fd, iovsPtr, iovsLen, !waiter.isSuspending);
      if (errno !== Errno.SUCCESS) return errno;
      memory.view().setUint32(nwrittenPtr, written, true);
      return Errno.SUCCESS;
    },
    fd_fdstat_get(fd: number, ptr: number) {
      const entry = socketOf(fd);
      if (!entry) return fdFdstatGet(fd as never, ptr as never);
      memory.check(ptr, 24);
      const v = memory.view();
      v.setUint8(ptr, SOCKET_STREAM);
      v.setUint8(ptr + 1, 0);
      v.setUint16(ptr + 2, entry.fdflags, true);
      v.setUint32(ptr + 4, 0, true);
      v.setBigUint64(ptr + 8, entry.rightsBase, true);
      v.setBigUint64(ptr + 16, entry.rightsInheriting, true);
      return Errno.SUCCESS;
    },
    fd_fdstat_set_flags(fd: number, flags: number) {
      const entry = socketOf(fd);
      if (!entry) return fdFdstatSetFlags(fd as never, flags as never);
      if (flags & ~0x1f) return Errno.INVAL;
      entry.fdflags = flags & FdFlag.NONBLOCK;
      return Errno.SUCCESS;
    },
    fd_close(fd: number) {
      const entry = socketOf(fd);
      if (!entry) return fdClose(fd as never);
      fds.close(fd);
      closeSocket(entry);
      return Errno.SUCCESS;
    },
    fd_renumber(from: number, to: number) {
      fds.get(from);
      const target = socketOf(to);
      if (!target || from === to) return fdRenumber(from as never, to as never);
      fds.renumber(from, to);
      closeSocket(target);
      return Errno.SUCCESS;
    },
    fd_prestat_get(fd: number, ptr: number) {
      // wasi-libc scans preopens from fd 3 and stops at the first EBADF (any other error
      // aborts the program). The listeners come first (fds 3…, as with wasmtime's
      // `--tcplisten`), so they answer with a tag that is not a directory: libc skips them
      // and goes on to find the sandbox directory after them.
      if (!socketOf(fd)) return fdPrestatGet(fd as never, ptr as never);
      memory.check(ptr, 8);
      memory.view().setUint32(ptr, PRESTAT_NOT_DIR, true);
      memory.view().setUint32(ptr + 4, 0, true);
      return Errno.SUCCESS;
    },
    fd_filestat_get(fd: number, ptr: number) {
      if (!socketOf(fd)) return fdFilestatGet(fd as never, ptr as never);
      memory.check(ptr, 64);
      memory.slice(ptr, 64).fill(0);
      memory.view().setUint8(ptr + 16, SOCKET_STREAM);
      return Errno.SUCCESS;
    },
    fd_filestat_set_times(fd: number, atim: bigint, mtim: bigint, fstFlags: number) {
      if (socketOf(fd)) return Errno.BADF;
      return fdFilestatSetTimes(fd as never, atim as never, mtim as never, fstFlags as never);
    },
  };
}

/** Readiness of a socket fd for poll_oneoff: bytes readable (or 0 at end), or not ready. */
export function socketReadiness(
  net: NetMirror,
  entry: SocketEntry,
  isWrite: boolean,
): { isReady: boolean; nbytes: number; isHangup: boolean } {
  if (entry.listener !== undefined) {
    return { isReady: !isWrite && net.hasPending(entry.listener), nbytes: 0, isHangup: false };
  }
  const id = entry.conn ?? -1;
  if (isWrite) {
    const room = net.writable(id);
    return { isReady: room !== 0, nbytes: Math.max(0, room), isHangup: room < 0 };
  }
  const n = net.readable(id);
  const isEof = net.isEof(id);
  return { isReady: n > 0 || isEof, nbytes: n, isHangup: isEof && n === 0 };
}
