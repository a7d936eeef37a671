// The task's process: arguments, environment, random bytes, exit, and the calls a task without
// signals or sockets gets refused (sockets: EBADF or ENOTSOCK, like a host with none).
import { randomFillSync } from 'node:crypto';
import { Errno } from '../wasi-errno.js';
import type { FdTable } from './fd-table.js';
import type { GuestMemory } from './guest-memory.js';

/**
 * Thrown by `proc_exit` to unwind the guest; carries the exit code. Without a stack trace: every
 * C program's `_start` ends in `proc_exit`, and capturing a trace through the guest's Wasm frames
 * costs a handler request (handler mode, one instance per request) a tenth of a millisecond.
 */
export class ProcExit extends Error {
  readonly code: number;

  constructor(code: number) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(`proc_exit(${code})`);
    Error.stackTraceLimit = limit;
    this.code = code;
  }
}

/** random_get fills at most this much per step, so a 4 GiB request is not one host buffer. */
const RANDOM_CHUNK_BYTES = 64 * 1024;

const encoder = new TextEncoder();

/** Strings laid out one after another as UTF-8, and where each begins. */
interface EncodedStrings {
  bytes: Uint8Array;
  starts: number[];
}

/**
 * Encodes `strings` into one buffer (args or env, each ending in NUL) with one call to the
 * encoder, not one per string (a handler request's environment is two dozen strings, encoded
 * per request; the calls were 9 % of its CPU time). ASCII text keeps its offsets; other text is
 * encoded string by string.
 */
function encodeStrings(strings: string[]): EncodedStrings {
  const joined = strings.join('');
  const bytes = encoder.encode(joined);
  const starts: number[] = [];
  let at = 0;
  if (bytes.length === joined.length) {
    for (const s of strings) {
      starts.push(at);
      at += s.length;
    }
    return { bytes, starts };
  }
  // Room for the worst case (3 bytes a UTF-16 unit), whatever the strings' edges hold.
  const buffer = new Uint8Array(joined.length * 3);
  for (const s of strings) {
    starts.push(at);
    at += encoder.encodeInto(s, buffer.subarray(at)).written;
  }
  return { bytes: buffer.subarray(0, at), starts };
}

/** The process calls of the WASI import object. */
export function createProcessCalls(options: {
  memory: GuestMemory;
  fds: FdTable;
  args: string[];
  env: Record<string, string>;
}): Record<string, (...args: never[]) => number | void> {
  const { memory, fds } = options;
  // Encoded once, at first use (a task that never reads its environment keeps no copy of it):
  // the driver bounds them (they come from the app definition, not the task).
  let args: EncodedStrings | undefined;
  let env: EncodedStrings | undefined;
  const argBytes = () => (args ??= encodeStrings(options.args.map((a) => `${a}\0`)));
  const envBytes = () =>
    (env ??= encodeStrings(Object.entries(options.env).map(([k, v]) => `${k}=${v}\0`)));
  const sizes = (strings: EncodedStrings, countPtr: number, sizePtr: number): number => {
    memory.check(countPtr, 4);
    memory.check(sizePtr, 4);
    memory.view().setUint32(countPtr, strings.starts.length, true);
    memory.view().setUint32(sizePtr, strings.bytes.length, true);
    return Errno.SUCCESS;
  };
  const copy = (strings: EncodedStrings, ptrsPtr: number, bufPtr: number): number => {
    memory.check(ptrsPtr, strings.starts.length * 4);
    memory.check(bufPtr, strings.bytes.length);
    const at = bufPtr >>> 0;
    const view = memory.view();
    strings.starts.forEach((start, i) => view.setUint32(ptrsPtr + i * 4, at + start, true));
    memory.slice(at, strings.bytes.length).set(strings.bytes);
    return Errno.SUCCESS;
  };
  const socket = (fd: number): number => {
    try {
      fds.get(fd);
    } catch {
      return Errno.BADF;
    }
    return Errno.NOTSOCK;
  };
  return {
    args_sizes_get: (countPtr: number, sizePtr: number) => sizes(argBytes(), countPtr, sizePtr),
    args_get: (ptrsPtr: number, bufPtr: number) => copy(argBytes(), ptrsPtr, bufPtr),
    environ_sizes_get: (countPtr: number, sizePtr: number) => sizes(envBytes(), countPtr, sizePtr),
    environ_get: (ptrsPtr: number, bufPtr: number) => copy(envBytes(), ptrsPtr, bufPtr),
    random_get(ptr: number, len: number) {
      const target = memory.slice(ptr, len);
      for (let at = 0; at < target.length; at += RANDOM_CHUNK_BYTES) {
        randomFillSync(target.subarray(at, at + RANDOM_CHUNK_BYTES));
      }
      return Errno.SUCCESS;
    },
    proc_exit(code: number) {
      throw new ProcExit(code >>> 0);
    },
    proc_raise() {
      return Errno.NOSYS;
    },
    sock_accept: (fd: number) => socket(fd),
    sock_recv: (fd: number) => socket(fd),
    sock_send: (fd: number) => socket(fd),
    sock_shutdown: (fd: number) => socket(fd),
  };
}
