// The messages between the driver (main thread) and a task worker.
import type { SandboxFile } from '../driver.js';

/** Driver → worker: run one task. The worker answers with `WorkerEvent`s, the last being `exit`. */
export interface RunRequest {
  type: 'run';
  taskId: string;
  /** Names the compiled module; the worker keeps the last `workerModuleSlots` it was sent. */
  moduleKey: string;
  /** Sent only when the worker does not hold `moduleKey` yet (a clone per launch costs). */
  module?: WebAssembly.Module;
  args: string[];
  env: Record<string, string>;
  sandboxDir: string;
  /** `TaskSpec.sandboxFiles`: the worker makes the sandbox on the task's first need. */
  sandboxFiles?: SandboxFile[];
  maxLogLineBytes: number;
  diskQuotaBytes: number;
  /** Index 0 set non-zero by the driver to stop the task; shared with the worker. */
  control: SharedArrayBuffer;
  /** A resumable module (resumable-module.ts): runs resident in a shared worker. */
  isResumable?: boolean;
  /** Resident tasks: fuel per turn before they yield the thread to the others. */
  fuelSlice?: bigint;
  /** Resident tasks: the thread's time is shared in proportion to `cpus` (default 1). */
  cpus?: number;
  /** Resident tasks: 'hard' also caps the task at `cpus` of a thread when it is idle. */
  cpuLimit?: 'shares' | 'hard';
  /**
   * The task's fuel budget, set into the module's `__pacer_fuel` counter after instantiation
   * (the compiled module holds 0, so one compile serves every budget); undefined = not metered.
   */
  fuelBudget?: bigint;
  /**
   * Listening sockets the task holds (socket mode): preopened as fds 3…3+n-1 with `LISTEN_FDS`,
   * the sandbox directory after them. The agent's main thread owns the real sockets
   * (net-host.ts); their traffic comes as `NetDelivery` messages and goes back as `net` events.
   */
  listeners?: number;
  /**
   * The module imports its memory with these limits (an ordinary module, or a resumable one in
   * handler mode): the worker gives the instance a zeroed one from its pool (memory-pool.ts)
   * instead of a fresh allocation.
   */
  importedMemory?: ImportedMemory;
  /** Handler mode (WAGI): bytes the guest reads from stdin; stdout is returned whole. */
  stdin?: Uint8Array;
  /** Handler mode: stdout is captured (up to this many bytes) instead of logged. */
  captureStdoutBytes?: number;
}

/**
 * Driver → shared worker: resident tasks to start, gathered over one turn of the driver's event
 * loop (a burst of launches costs one message, not one each). The thread answers with batches
 * of `WorkerEvent`s (`WorkerEvent[]`), one per turn of its own loop.
 */
export interface RunBatch {
  type: 'runs';
  requests: RunRequest[];
}

/**
 * Driver → shared worker: end a resident task (kill, timeout). The thread answers with the
 * task's `exit` (outcome `stopped`, or how it ended if it ended first): only then has its code
 * stopped running on the thread.
 */
export interface StopRequest {
  type: 'stop';
  taskId: string;
}

/**
 * Driver → worker, sent only while the thread holds no task: collect garbage now. Every instance
 * reserves address space for its linear memory that only a full collection returns; left to
 * V8, that collection came inside a launch about every 150 (the slowest 1 % of launches). The
 * thread answers `collected`; the driver places new tasks elsewhere until then if it can.
 */
export interface CollectRequest {
  type: 'collect';
}

/**
 * Driver → worker: socket traffic for one task (net-host.ts → wasi/net-mirror.ts), in order.
 * Connection ids are the host's, per task: the guest only ever sees its own fd numbers.
 */
export interface NetDelivery {
  type: 'net';
  taskId: string;
  events: NetEvent[];
}

/** What happened on a task's sockets (main thread → worker). */
export type NetEvent =
  /** A connection arrived on listener `listener` (0-based, fd 3 + listener). */
  | { t: 'conn'; listener: number; id: number }
  /** Bytes from the peer; the host stops reading once `netWindowBytes` are unacknowledged. */
  | { t: 'data'; id: number; bytes: Uint8Array }
  /** The peer finished sending (or the connection failed: `isError`). */
  | { t: 'end'; id: number; isError?: boolean }
  /** Bytes the host handed to the kernel: the worker may send that many more. */
  | { t: 'sent'; id: number; bytes: number };

/** What the task did on its sockets (worker → main thread). */
export type NetOp =
  | { t: 'send'; id: number; bytes: Uint8Array }
  /** The guest consumed `bytes` of what it was delivered (flow control). */
  | { t: 'read'; id: number; bytes: number }
  /** how: 1 = reads, 2 = writes, 3 = both (WASI sdflags). */
  | { t: 'shutdown'; id: number; how: number }
  | { t: 'close'; id: number };

/** Unacknowledged bytes per connection and direction before the other side waits. */
export const netWindowBytes = 256 * 1024;

/** How a run ended, as seen from inside the worker. */
export type RunOutcome =
  | { kind: 'returned' }
  | { kind: 'exit'; code: number }
  | { kind: 'trap'; message: string }
  | { kind: 'stopped' }
  | { kind: 'link-error'; message: string };

export type WorkerEvent =
  | { type: 'started'; taskId: string }
  | { type: 'log'; taskId: string; stream: 'stdout' | 'stderr'; lines: string[] }
  | {
      type: 'exit';
      taskId: string;
      outcome: RunOutcome;
      /** Value of the fuel global at the end (metered modules only). */
      fuelLeft?: bigint;
      /** Whether a `memory.grow` was refused at the cap. */
      isGrowRefused?: boolean;
      /** Handler mode: what the guest wrote to stdout (at most `captureStdoutBytes`). */
      stdout?: Uint8Array;
    }
  | { type: 'net'; taskId: string; ops: NetOp[] };

/** Worker → driver: the collection asked by a `CollectRequest` is done. */
export interface Collected {
  type: 'collected';
}

/** Export names the rewriter adds to a module. */
export const InstrumentExports = {
  fuel: '__pacer_fuel',
  growRefused: '__pacer_grow_refused',
} as const;

/**
 * Compiled modules a worker keeps, first in first out. The pool mirrors the same bookkeeping,
 * so it knows without asking which modules a worker holds.
 */
export const workerModuleSlots = 64;

/** The import a resumable module calls when its fuel slice runs out (see task-worker.ts). */
/** A memory a module imports (`memoryImport` of instrument-module.ts), in pages of 64 KiB. */
export interface ImportedMemory {
  minPages: number;
  maxPages: number;
}

export const yieldImport = { module: 'pacer', name: 'yield' } as const;

/** Asyncify's exports, used by the worker to unwind and rewind a task. */
export const AsyncifyExports = {
  startUnwind: 'asyncify_start_unwind',
  stopUnwind: 'asyncify_stop_unwind',
  startRewind: 'asyncify_start_rewind',
  stopRewind: 'asyncify_stop_rewind',
  state: 'asyncify_get_state',
} as const;

/**
 * A task's control buffer: [0] stop flag and [1] socket wake counter (int32, wasi/waiter.ts),
 * then at byte 8 the fuel left as of the guest's last host call or slice end (int64), which the
 * worker publishes and the driver reads for a running task's fuel used (`TaskDriver.fuelUsed`).
 */
export const CONTROL_BYTES = 16;
const FUEL_LEFT_OFFSET = 8;

/** Publishes the fuel left (worker side); a buffer without the slot (a handler's request) is skipped. */
export function publishFuelLeft(control: SharedArrayBuffer, fuelLeft: bigint): void {
  if (control.byteLength < CONTROL_BYTES) return;
  Atomics.store(new BigInt64Array(control, FUEL_LEFT_OFFSET, 1), 0, fuelLeft);
}

/** The fuel left last published (driver side). */
export function readFuelLeft(control: SharedArrayBuffer): bigint | undefined {
  if (control.byteLength < CONTROL_BYTES) return undefined;
  return Atomics.load(new BigInt64Array(control, FUEL_LEFT_OFFSET, 1), 0);
}
