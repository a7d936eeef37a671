// Our WASI preview 1 host (runs inside a task worker), composed from one file per concern in
// wasi/: guest memory views, the fd table, file system calls, poll and clocks, the process,
// stdio logs and the disk quota. Every call is charged fuel and turns guest mistakes into errnos.
import type { SandboxFile } from '../driver.js';
import { HOST_CALL_FUEL, fuelForBytes } from './fuel-cost.js';
import { createDiskQuota } from './wasi/disk-quota.js';
import { createFdCalls } from './wasi/fd-calls.js';
import { createFdTable } from './wasi/fd-table.js';
import { createFileTimes } from './wasi/file-times.js';
import { releaseFile, type FsContext } from './wasi/fs-context.js';
import { createGuestMemory } from './wasi/guest-memory.js';
import { createPathCalls } from './wasi/path-calls.js';
import { StopRequested, createPollClockCalls } from './wasi/poll-clock-calls.js';
import { ProcExit, createProcessCalls } from './wasi/process-calls.js';
import type { NetMirror } from './wasi/net-mirror.js';
import { createSocketCalls } from './wasi/socket-calls.js';
import { createStdioLog } from './wasi/stdio-log.js';
import { createBlockingWaiter, type Waiter } from './wasi/waiter.js';
import { Errno, WasiError, errnoOf } from './wasi-errno.js';
import { wasiModuleName, wasiSignatures } from './wasi-signatures.js';

export { ProcExit, StopRequested };

export interface WasiHostOptions {
  args: string[];
  env: Record<string, string>;
  sandboxDir: string;
  /** The sandbox does not exist yet: made with these files at the first call that may reach a file. */
  sandboxFiles?: readonly SandboxFile[];
  maxLogLineBytes: number;
  /**
   * Bytes the sandbox may hold, all told: what is in it when the task starts (the fetched
   * artifacts, measured then) and everything the task adds (wasi/disk-quota.ts).
   */
  diskQuotaBytes: number;
  /** Index 0 becomes non-zero when the driver wants the task to stop; sleeps wait on it. */
  control: Int32Array;
  onLog: (stream: 'stdout' | 'stderr', lines: string[]) => void;
  /**
   * How calls wait (wasi/waiter.ts): resident tasks pass one that unwinds the guest; the default
   * blocks the thread on `control`.
   */
  waiter?: Waiter;
  /**
   * Socket mode: the task's sockets as the worker sees them; `net.listenerCount` listeners are
   * preopened as fds 3… (then the sandbox directory).
   */
  net?: NetMirror;
  /** Pooled tasks in socket mode: posts queued ops and applies deliveries received meanwhile. */
  receiveNet?: () => boolean;
  /** Handler mode: stdin holds these bytes (the request body). */
  stdin?: Uint8Array;
  /** Handler mode: stdout is captured, up to this many bytes (`WasiHost.stdout`). */
  captureStdoutBytes?: number;
  /**
   * Charges a host call's work to the task's fuel counter (`fuel-cost.ts`: a fixed part per call
   * plus a part per byte touched). Only decrements the counter; never throws. The guest's next
   * fuel check acts on it (traps as OUT_OF_FUEL, or yields the thread at a slice's end).
   */
  chargeFuel?: (units: number) => void;
  /**
   * The WASI functions the module imports (`wasiImportNames`): only these are in `imports`
   * (each stub costs the launch an allocation). Default: every function.
   */
  importNames?: readonly string[];
}

/** Names of the `wasi_snapshot_preview1` functions `module` imports. */
export function wasiImportNames(module: WebAssembly.Module): string[] {
  return WebAssembly.Module.imports(module)
    .filter((i) => i.module === wasiModuleName && i.kind === 'function')
    .map((i) => i.name);
}

export interface WasiHost {
  /** The `wasi_snapshot_preview1` import object (the same functions across `reset`s). */
  imports: Record<string, (...args: never[]) => unknown>;
  /** Must be called with the instance's exported memory before `_start`. */
  setMemory(memory: WebAssembly.Memory): void;
  /** Emits unfinished log lines and closes every open file (and socket). */
  close(): void;
  /** Handler mode: what the guest wrote to stdout. */
  stdout(): Uint8Array;
}

/** A host built at once, which may serve further runs (host-pool.ts). */
export interface ReusableWasiHost extends WasiHost {
  /**
   * Makes the host new for another run, as `createWasiHost(options)` would (a host without
   * sockets only; call `close` first): files closed and the fd table as at start, no memory,
   * new stdio, args, env, sandbox, quota, waiter and fuel charger; only the functions stay.
   * Undefined options leave it blank (nothing of the last run held) until the next reset.
   */
  reset(options?: WasiHostOptions): void;
}

/** The options of a blank host (`reset()`): nothing to read, write or run. */
const blankOptions: WasiHostOptions = {
  args: [],
  env: {},
  sandboxDir: '/nonexistent',
  maxLogLineBytes: 1,
  diskQuotaBytes: 0,
  control: new Int32Array(1),
  onLog: () => undefined,
};

type Calls = Record<string, (...args: never[]) => number | void>;

/**
 * The host for one task run, built at the guest's first host call rather than here: the instance
 * links to one small stub per WASI function it imports, so a launch (instantiate → `_start`
 * entered) does not allocate the host's ~26 KB of closures and tables, whose young-generation
 * collections were, on a pooled thread, the commonest cause of the slowest launches; a module
 * that never calls the host never builds one. Nothing is lost by waiting: the host holds no
 * resource before a call (the disk quota measures the sandbox on first need, fds come from calls).
 */
export function createWasiHost(options: WasiHostOptions): WasiHost {
  let host: WasiHost | undefined;
  let guestMemory: WebAssembly.Memory | undefined;
  const built = (): WasiHost => {
    if (!host) {
      // Never reset (that is the pool's kind): only what this module imports is built.
      host = createReusableWasiHost(options, options.importNames);
      if (guestMemory) host.setMemory(guestMemory);
    }
    return host;
  };
  // Names of the allow-list of the import check, which every host implements; any other name
  // gets no stub, so the instance does not link, as with the host itself.
  const imports: WasiHost['imports'] = {};
  const names = options.importNames ?? Object.keys(wasiSignatures);
  for (const name of names) {
    if (!Object.hasOwn(wasiSignatures, name)) continue;
    let call: ((...args: never[]) => unknown) | undefined;
    imports[name] = (...args: never[]) => {
      call ??= built().imports[name] as (...args: never[]) => unknown;
      return call(...args);
    };
  }
  return {
    imports,
    setMemory(memory) {
      guestMemory = memory;
      host?.setMemory(memory);
    },
    close() {
      if (host) host.close();
      else options.net?.flush();
    },
    stdout: () => host?.stdout() ?? new Uint8Array(0),
  };
}

/**
 * Builds the host at once (the disk quota measures the sandbox on first need). A host without
 * sockets may be `reset` for further runs: handler mode keeps a few per thread instead of
 * building one per request (its import functions, tens of closures, were a tenth of a request's
 * CPU time and a third of what it allocated).
 */
export function createReusableWasiHost(
  first: WasiHostOptions,
  onlyNames?: readonly string[],
): ReusableWasiHost {
  let options = first;
  /**
   * Only these imports are built when given (a host that is never reset, whose module is
   * known): a resident task keeps its host for its whole life, and the ~45 wrappers and the
   * path calls of a host whose module imports 4 functions were most of what each held (and
   * what its thread's collections traced again and again, profiled on 1,000 launches).
   */
  const isWanted = (name: string) => !onlyNames || onlyNames.includes(name);
  const hasPathCalls = !onlyNames || onlyNames.some((name) => name.startsWith('path_'));
  const memory = createGuestMemory();
  const fds = createFdTable(options.net?.listenerCount ?? 0);
  const { net } = options;
  const stdioOf = (o: WasiHostOptions) => createStdioLog(o);
  const diskOf = (o: WasiHostOptions) =>
    createDiskQuota({
      sandboxDir: o.sandboxDir,
      quotaBytes: o.diskQuotaBytes,
      ...(o.sandboxFiles ? { files: o.sandboxFiles } : {}),
    });
  const ctx: FsContext = {
    root: options.sandboxDir,
    memory,
    fds,
    disk: diskOf(options),
    times: createFileTimes(),
    stdio: stdioOf(options),
  };
  const fdCalls = createFdCalls(ctx);
  const calls: Calls = {};
  /** The parts that hold state of their own (args and env, a suspended poll, a listing). */
  const assignRunCalls = (): void => {
    const waiter =
      options.waiter ??
      createBlockingWaiter({ control: options.control, receiveNet: options.receiveNet });
    // Object.assign, not spreads: V8 spreads these objects of closures about 50 times slower
    // (measured: 240 µs against 4 µs a host).
    Object.assign(
      calls,
      createProcessCalls({ memory, fds, args: options.args, env: options.env }),
      createPollClockCalls({ memory, fds, waiter, net }),
      hasPathCalls ? createPathCalls(ctx) : {},
    );
    if (net) Object.assign(calls, createSocketCalls({ memory, fds, net, waiter, fdCalls }));
  };
  Object.assign(calls, fdCalls);
  assignRunCalls();

  // Guest mistakes become errnos, never host crashes: a bad pointer is EFAULT, fs errors map.
  // Each call is charged its fixed cost and the guest bytes it touched, whatever its outcome.
  // Every i32 of WASI preview 1 is unsigned (pointers, sizes, fds, flags) but reaches JS signed:
  // made unsigned here once, so a pointer above 2 GiB is a pointer, not a negative offset.
  // The sandbox is measured (disk quota) before the first call that may reach one of its files:
  // any path_* call, or an fd_* call on a descriptor past stdio (a preopen, a file, a socket),
  // except fd_prestat_*, which read only the preopen's name from the fd table (every wasi-libc
  // program asks at start: it would make every lazily made sandbox, TaskSpec.sandboxFiles).
  // Every file descriptor comes from such a call, so nothing is written before the measure.
  // The call is looked up at each call: a reset replaces the parts that hold a run's state.
  const imports: Record<string, (...args: never[]) => unknown> = {};
  for (const name of Object.keys(calls)) {
    if (!isWanted(name)) continue;
    const isPath = name.startsWith('path_');
    const isFd = name.startsWith('fd_') && !name.startsWith('fd_prestat_');
    imports[name] = (...args: unknown[]) => {
      memory.takeTouched();
      if (isPath || (isFd && (args[0] as number) >>> 0 > 2)) ctx.disk.prime();
      try {
        const fn = calls[name] as (...args: never[]) => number | void;
        // In place, not a mapped copy: every host call of every task passes here (a resident
        // service's tick is two), and the copy was a quarter of a tick's time on its thread.
        for (let i = 0; i < args.length; i++) {
          const arg = args[i];
          if (typeof arg === 'number') args[i] = arg >>> 0;
        }
        return fn(...(args as never[]));
      } catch (error) {
        if (error instanceof ProcExit || error instanceof StopRequested) throw error;
        if (error instanceof WasiError) return error.errno;
        if (error instanceof RangeError) return Errno.FAULT;
        return errnoOf(error);
      } finally {
        options.chargeFuel?.(HOST_CALL_FUEL + fuelForBytes(memory.takeTouched()));
      }
    };
  }

  return {
    imports,
    setMemory: (m) => memory.setMemory(m),
    close() {
      ctx.stdio.flush();
      for (const file of fds.files()) {
        try {
          releaseFile(ctx, file, () => undefined);
        } catch {
          // the quota dies with the host; only the host fds matter now
        }
      }
      fds.closeAll();
      net?.flush();
    },
    stdout: () => ctx.stdio.captured(),
    reset(next = blankOptions) {
      if (net || next.net) throw new Error('a host with sockets cannot be reset');
      options = next;
      memory.reset();
      fds.reset();
      ctx.root = next.sandboxDir;
      ctx.disk = diskOf(next);
      ctx.times = createFileTimes();
      ctx.stdio = stdioOf(next);
      assignRunCalls();
    },
  };
}
