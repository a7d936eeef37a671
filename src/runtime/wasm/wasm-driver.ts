// The Wasm TaskDriver: each task runs its module in a pooled worker thread under our WASI host,
// with a memory cap, a fuel budget and a wall-clock limit (DESIGN.md, "The Wasm runtime").
//
//   start ─► prepare module (cache) ─► worker.run ─► started ─► … ─► exit ─► release worker
//                                                     │ stop/timeout ─► terminate ─► replace worker
import { lstatSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { FailureReason, failureMessage, splitCommandLine } from '../../domain/index.js';
import type { Logger } from '../../lib/index.js';
import {
  TaskStartError,
  type TaskDriver,
  type TaskExit,
  type TaskHandle,
  type TaskSpec,
} from '../driver.js';
import { makeSandbox } from '../sandbox-files.js';
import { defaultModuleCaps, type ModuleCaps } from './check-module.js';
import { defaultFuelBudget } from './default-fuel.js';
import { createModuleCache, type PreparedModule } from './module-cache.js';
import { resumableTransformer } from './resumable-transformer.js';
import { createSharedWorkers } from './shared-workers.js';
import {
  createWorkerPool,
  resolveWorkerUrl,
  type PooledWorker,
  type WorkerSink,
} from './worker-pool.js';
import type {
  NetDelivery,
  NetEvent,
  RunOutcome,
  RunRequest,
  WorkerEvent,
} from './worker-messages.js';
import { CONTROL_BYTES, publishFuelLeft, readFuelLeft } from './worker-messages.js';
import { createNetHost, type NetHost } from './net-host.js';
import { NET_WAKE_INDEX } from './wasi/waiter.js';
import {
  createWagiServer,
  isWagiApp,
  type InstanceResult,
  type WagiServer,
} from './wagi-server.js';

export interface WasmDriverOptions {
  logger: Logger;
  /**
   * Warm workers kept ready, and threads for resident tasks; never more than the machine's
   * available parallelism (its default).
   */
  poolSize?: number;
  /** Fuel budget when `limits.fuel` is undefined (agent flag). */
  defaultFuel?: bigint;
  /** Wall-clock limit when `limits.timeoutMs` is undefined; 0 = none. */
  defaultTimeoutMs?: number;
  /** Longer stdout/stderr lines are cut into pieces of this many bytes. */
  maxLogLineBytes?: number;
  /** Size caps beyond which a module is INVALID_MODULE. */
  moduleCaps?: Partial<ModuleCaps>;
  /** False runs modules without fuel metering (benchmark baselines only). */
  shouldMeterFuel?: boolean;
  /**
   * True (default) compiles modules with the optimizing tier only. V8 cannot move a running
   * function from its baseline tier (Liftoff) to the optimized one, so a task spending its
   * life in one loop would otherwise stay on baseline code, 1.5–2.5× slower with metering.
   * The flag is process-wide; compiles take longer but happen once per cached module.
   */
  shouldSkipBaselineTier?: boolean;
  /**
   * Fuel a resident task (a resumable module in a shared worker) runs before it yields the
   * thread to the others on it (default 10,000,000: milliseconds of guest code).
   */
  fuelSlice?: bigint;
  /** Resident tasks per shared thread before another thread is started (default 5000). */
  residentTasksPerThread?: number;
  /**
   * `--cpu-limit`: resident tasks share a thread in proportion to `cpus` ('shares', default);
   * 'hard' also caps each at `cpus` of a thread when the machine is idle (slice-scheduler.ts).
   */
  cpuLimit?: 'shares' | 'hard';
  /**
   * True (default) loads binaryen in its background process at once, so the first sleeping
   * module's launch does not wait seconds for it (resumable-transformer.ts), and starts the
   * pool's and the shared threads; false leaves all of them to the first tasks (a small idle
   * agent).
   */
  shouldPrewarmResumable?: boolean;
  /** Address task ports are bound on (socket and handler mode); default 0.0.0.0. */
  bindHost?: string;
  /** Handler mode: per-request figures (fuel used, duration, status), e.g. into task metrics. */
  onRequest?: (
    taskId: string,
    figures: { fuelUsed?: number; durationMs: number; status: number },
  ) => void;
}

interface WasmTask {
  handle: TaskHandle;
  spec: TaskSpec;
  prepared: PreparedModule;
  /** The task's fuel budget (set in the instance's counter by the worker); undefined = unmetered. */
  fuelBudget?: bigint;
  worker?: PooledWorker;
  /** Runs resident in a shared worker (a resumable module). */
  isResident: boolean;
  control: SharedArrayBuffer;
  exit?: TaskExit;
  exited: Promise<TaskExit>;
  resolveExit: (exit: TaskExit) => void;
  /** Set when the driver ends the task (stop, timeout) before the worker dies. */
  endedBy?: 'KILLED' | 'TIMEOUT';
  timer?: NodeJS.Timeout;
  onStarted?: (error?: Error) => void;
  /** Socket mode: the task's bound ports (main-thread side). */
  net?: NetHost;
  /** Handler mode: the HTTP server running an instance per request. */
  wagi?: WagiServer;
  /** Handler mode: the module's argv. */
  wagiArgv?: string[];
  /** Handler mode: fuel used by all its requests so far (reported with its exit). */
  wagiFuelUsed?: number;
  /** Socket traffic held until the run request is dispatched. */
  netBacklog?: NetEvent[];
}

/** Where a task thread's first full collection comes (V8's `--initial-old-space-size`). */
const threadInitialOldSpaceMiB = 64;

/** Handler mode: a request's wall-clock limit unless a label or the app sets a lower one. */
const wagiDefaultTimeoutMs = 10_000;

/**
 * Device, inode, size and change times of a file, or undefined when it cannot be stat'ed. Any
 * write to the file moves its ctime, which no process can set back, so an unchanged identity
 * means unchanged bytes. A synchronous lstat (microseconds on the local sandbox disk) spares
 * the launch path the four thread-pool round trips of a read; a symlink is never trusted.
 */
function fileIdentity(path: string): string | undefined {
  const stat = lstatSync(path, { bigint: true, throwIfNoEntry: false });
  if (!stat?.isFile()) return undefined;
  return `${stat.dev}:${stat.ino}:${stat.size}:${stat.ctimeNs}:${stat.mtimeNs}`;
}

/** Creates the driver; workers are started at once so the first task finds them warm. */
export function createWasmDriver(options: WasmDriverOptions): TaskDriver {
  const logger = options.logger.child({ driver: 'wasm' });
  if (options.shouldSkipBaselineTier ?? true) setFlagsFromString('--no-liftoff');
  // Process-wide, but read only by isolates made from now on: the driver's threads. Without it
  // V8 shrinks a new isolate's old-generation limit to what survived its first scavenges, so a
  // shared thread taking in hundreds of resident tasks (each holding its instance and host)
  // ran a full collection at every few MiB of growth. Measured (1,000 resident launches in
  // process, 3 rounds x 2 runs): 0.47-0.52 -> 0.33-0.37 ms of CPU per launch, RSS +10-15 MiB
  // at 1,000 tasks. An idle thread allocates nothing, so an idle agent holds no more; the
  // limit stays under each thread's `maxOldGenerationSizeMb`.
  setFlagsFromString(`--initial-old-space-size=${threadInitialOldSpaceMiB}`);
  const caps = { ...defaultModuleCaps, ...options.moduleCaps };
  const cache = createModuleCache({ caps });
  const shouldMeterFuel = options.shouldMeterFuel ?? true;
  // Only metered modules are made resumable (module-cache.ts).
  if (shouldMeterFuel && (options.shouldPrewarmResumable ?? true)) resumableTransformer.warm();
  // More threads than cores cannot run at once: each would only cost its boot and its heap (an
  // agent may offer more cpus than its machine has, as several agents on one machine do).
  const threads = Math.max(1, Math.min(options.poolSize ?? Infinity, availableParallelism()));
  const pool = createWorkerPool({
    size: threads,
    // Started with binaryen's helper when prewarming, else by the first tasks.
    shouldStartWarm: options.shouldPrewarmResumable ?? true,
    logger,
    workerUrl: resolveWorkerUrl(import.meta.url, 'task-worker'),
  });
  const shared = createSharedWorkers({
    threads,
    tasksPerThread: options.residentTasksPerThread ?? 5000,
    logger,
    workerUrl: resolveWorkerUrl(import.meta.url, 'task-worker'),
  });
  // Only metered modules are resident; their threads are started with the pool's workers.
  if (shouldMeterFuel && (options.shouldPrewarmResumable ?? true)) shared.warm();
  const fuelSlice = options.fuelSlice ?? 10_000_000n;
  const maxLogLineBytes = options.maxLogLineBytes ?? 4096;
  const tasks = new Map<string, WasmTask>();
  /** File identity (see `fileIdentity`) → sha256 of its bytes: a cached module is not re-read. */
  const fileDigests = new Map<string, string>();
  const maxFileDigests = 4096;

  function finish(record: WasmTask, exit: TaskExit): void {
    if (record.exit) return;
    record.exit = exit;
    clearTimeout(record.timer);
    logger.debug(
      { taskId: record.handle.taskId, state: exit.state, message: exit.message },
      'wasm task ended',
    );
    record.onStarted?.();
    record.net?.close();
    record.wagi?.close();
    record.resolveExit(exit);
  }

  /** Socket mode: posts traffic to the task's thread and wakes it if it blocks on a socket. */
  function deliverNet(record: WasmTask, events: NetEvent[]): void {
    if (record.netBacklog) {
      record.netBacklog.push(...events);
      return;
    }
    const message: NetDelivery = { type: 'net', taskId: record.handle.taskId, events };
    if (record.isResident) shared.post(message);
    else record.worker?.post(message);
    const control = new Int32Array(record.control);
    Atomics.add(control, NET_WAKE_INDEX, 1);
    Atomics.notify(control, NET_WAKE_INDEX);
  }

  function fuelUsedOf(record: WasmTask, fuelLeft: bigint | undefined): number | undefined {
    const budget = record.fuelBudget;
    if (budget === undefined || fuelLeft === undefined) return undefined;
    const used = budget - fuelLeft;
    // Reported over the bus as a safe integer (the master refuses anything else).
    return Math.min(Number(used > budget ? budget : used), Number.MAX_SAFE_INTEGER);
  }

  function exitOf(record: WasmTask, event: Extract<WorkerEvent, { type: 'exit' }>): TaskExit {
    const fuelUsed = fuelUsedOf(record, event.fuelLeft);
    const fuelNote = fuelUsed === undefined ? '' : ` (fuel used: ${fuelUsed})`;
    const failed = (reason: FailureReason, sentence: string, exitCode?: number): TaskExit => ({
      state: 'TASK_FAILED',
      reason,
      message: failureMessage(reason, sentence + fuelNote),
      exitCode,
      fuelUsed,
    });
    const outcome: RunOutcome = event.outcome;
    const isOutOfFuel = event.fuelLeft !== undefined && event.fuelLeft < 0n;
    switch (outcome.kind) {
      case 'returned':
        return {
          state: 'TASK_FINISHED',
          message: `exited with code 0${fuelNote}`,
          exitCode: 0,
          fuelUsed,
        };
      case 'exit':
        if (event.isGrowRefused) {
          return failed(
            FailureReason.MEMORY_LIMIT,
            `exited with code ${outcome.code} after memory.grow past the cap of ${record.prepared.memMiB} MiB was refused`,
            outcome.code,
          );
        }
        return failed(FailureReason.NONZERO_EXIT, `exited with code ${outcome.code}`, outcome.code);
      case 'trap':
        if (isOutOfFuel)
          return failed(
            FailureReason.OUT_OF_FUEL,
            `used its whole fuel budget of ${record.fuelBudget}`,
          );
        if (event.isGrowRefused) {
          return failed(
            FailureReason.MEMORY_LIMIT,
            `trapped (${outcome.message}) after memory.grow past the cap of ${record.prepared.memMiB} MiB was refused`,
          );
        }
        return failed(FailureReason.TRAP, outcome.message);
      case 'stopped':
        // A resident task reports what it used up to the kill (fair-share benchmarks read it).
        return fuelUsed === undefined ? killedExit(record) : { ...killedExit(record), fuelUsed };
      case 'link-error':
        return failed(FailureReason.FORBIDDEN_IMPORT, outcome.message);
      default: {
        const never: never = outcome;
        throw new Error(`unknown outcome ${JSON.stringify(never)}`);
      }
    }
  }

  function killedExit(record: WasmTask): TaskExit {
    if (record.endedBy === 'TIMEOUT') {
      const ms = timeoutOf(record.spec);
      return {
        state: 'TASK_FAILED',
        reason: FailureReason.TIMEOUT,
        message: failureMessage(FailureReason.TIMEOUT, `ran past its wall-clock limit of ${ms} ms`),
      };
    }
    // A handler's fuel is its requests'; a task whose thread was ended (killed, not stopped at a
    // slice's end) has the figure its thread last published.
    const fuelUsed = record.wagi
      ? record.wagiFuelUsed
      : fuelUsedOf(record, readFuelLeft(record.control));
    return {
      state: 'TASK_KILLED',
      reason: FailureReason.KILLED,
      message: failureMessage(
        FailureReason.KILLED,
        `killed on request${fuelUsed === undefined ? '' : ` (fuel used: ${fuelUsed})`}`,
      ),
      fuelUsed,
    };
  }

  function timeoutOf(spec: TaskSpec): number {
    return spec.limits.timeoutMs ?? options.defaultTimeoutMs ?? 0;
  }

  function onEvent(record: WasmTask, event: WorkerEvent): void {
    if (record.exit) return;
    switch (event.type) {
      case 'started':
        record.onStarted?.();
        record.onStarted = undefined;
        return;
      case 'log':
        // Asked to end: what it prints until its thread confirms is not delivered.
        if (record.endedBy) return;
        for (const line of event.lines) record.spec.onLog(event.stream, line);
        return;
      case 'net':
        record.net?.handle(event.ops);
        return;
      case 'exit': {
        const worker = record.worker;
        record.worker = undefined;
        if (event.outcome.kind === 'link-error') {
          record.onStarted?.(
            new TaskStartError(FailureReason.FORBIDDEN_IMPORT, event.outcome.message),
          );
          record.onStarted = undefined;
        }
        finish(record, exitOf(record, event));
        if (worker) pool.release(worker);
        return;
      }
      default: {
        const never: never = event;
        throw new Error(`unknown worker event ${JSON.stringify(never)}`);
      }
    }
  }

  async function end(record: WasmTask, by: 'KILLED' | 'TIMEOUT'): Promise<void> {
    if (record.exit) return;
    record.endedBy ??= by;
    // Wake a sleeping task at once; terminating the worker stops even a tight loop.
    const control = new Int32Array(record.control);
    Atomics.store(control, 0, 1);
    Atomics.notify(control, 0);
    Atomics.notify(control, NET_WAKE_INDEX);
    // A resident task's thread is shared: it is not terminated with the others on it. The
    // task stops at the end of its current fuel slice (it reads the flag set above), or at
    // once if it is between turns; it is reported ended when its thread says so (its `exit`),
    // so its thread counts as busy, and no kill is reported, while its code may still run.
    if (record.isResident) {
      shared.stop(record.handle.taskId);
      return;
    }
    const worker = record.worker;
    record.worker = undefined;
    // Reported as soon as terminate() is called: from then on nothing the task does reaches the
    // agent (its late messages are dropped), and the pool has already replaced the thread.
    if (worker) pool.discard(worker);
    finish(record, killedExit(record));
  }

  async function loadModule(spec: TaskSpec): Promise<{ argv: string[]; prepared: PreparedModule }> {
    const argv = spec.args ?? splitCommandLine(spec.cmd ?? '');
    const file = argv[0];
    if (!file)
      throw new TaskStartError(FailureReason.INVALID_MODULE, 'no module named in cmd or args');
    // Not the budget: it is set in each instance, so every budget shares one compile.
    const limits = {
      memMiB: spec.limits.memMiB,
      isMetered: shouldMeterFuel,
      isHandler: isWagiApp(spec.labels) && spec.ports.length > 0,
    };
    // Fetched files sit at the top of the sandbox, under the last segment of their URI (or, in
    // a sandbox not made yet, in the agent's cache).
    const staged = spec.sandboxFiles?.find((f) => f.name === basename(file));
    const path = staged?.from ?? join(spec.sandboxDir, basename(file));
    // The agent copied the file from its artifact cache just now (a fresh inode each task, so
    // the identity below never knows it): its digest comes with the spec.
    const fetched = Object.hasOwn(spec.fileDigests ?? {}, basename(file))
      ? spec.fileDigests?.[basename(file)]
      : undefined;
    const identity = fetched === undefined ? fileIdentity(path) : undefined;
    const known = fetched ?? (identity === undefined ? undefined : fileDigests.get(identity));
    const cached = known === undefined ? undefined : cache.lookup({ digest: known, ...limits });
    if (cached) return { argv: [basename(file), ...argv.slice(1)], prepared: await cached };
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (error) {
      throw new TaskStartError(
        FailureReason.INVALID_MODULE,
        `cannot read module ${file} in the sandbox`,
        { cause: error },
      );
    }
    const prepared = await cache.prepare({ bytes, ...limits });
    // Remembered only when the file did not change while it was read.
    if (identity !== undefined && fileIdentity(path) === identity) {
      fileDigests.set(identity, prepared.digest);
      if (fileDigests.size > maxFileDigests) {
        const oldest = fileDigests.keys().next().value;
        if (oldest !== undefined) fileDigests.delete(oldest);
      }
    }
    return { argv: [basename(file), ...argv.slice(1)], prepared };
  }

  let requestSeq = 0;

  /** Handler mode: one fresh instance for one request, with its own limits. */
  function runInstance(
    record: WasmTask,
    params: { stdin: Uint8Array; env: Record<string, string>; maxStdoutBytes: number },
  ): Promise<InstanceResult> {
    const { prepared, spec } = record;
    const taskId = `${spec.taskId}#${++requestSeq}`;
    const control = new SharedArrayBuffer(8);
    const budget = record.fuelBudget;
    const labelFuel = Object.hasOwn(spec.labels, 'PACER_WAGI_FUEL')
      ? BigInt(
          /^\d{1,19}$/.test(spec.labels.PACER_WAGI_FUEL ?? '')
            ? (spec.labels.PACER_WAGI_FUEL ?? '0')
            : '0',
        )
      : undefined;
    // The app's budget is the ceiling per request; a label may only lower it.
    const fuelBudget =
      budget === undefined
        ? undefined
        : labelFuel && labelFuel > 0n && labelFuel < budget
          ? labelFuel
          : budget;
    const appTimeout = timeoutOf(spec);
    const labelTimeout = Number(spec.labels.PACER_WAGI_TIMEOUT_MS ?? NaN);
    let timeoutMs =
      Number.isFinite(labelTimeout) && labelTimeout > 0 ? labelTimeout : wagiDefaultTimeoutMs;
    if (appTimeout > 0) timeoutMs = Math.min(timeoutMs, appTimeout);
    const request: RunRequest = {
      type: 'run',
      taskId,
      moduleKey: prepared.key,
      args: record.wagiArgv ?? [],
      env: params.env,
      sandboxDir: spec.sandboxDir,
      maxLogLineBytes,
      diskQuotaBytes: spec.limits.diskMiB * 1024 * 1024,
      control,
      isResumable: prepared.isResumable,
      importedMemory: prepared.importedMemory,
      fuelSlice,
      fuelBudget,
      stdin: params.stdin,
      captureStdoutBytes: params.maxStdoutBytes,
    };
    return new Promise((resolve) => {
      let worker: PooledWorker | undefined;
      let isDone = false;
      let isTimedOut = false;
      const settle = (
        outcome: RunOutcome,
        fuelLeft: bigint | undefined,
        stdout: Uint8Array | undefined,
      ): void => {
        if (isDone) return;
        isDone = true;
        clearTimeout(timer);
        const used =
          fuelBudget === undefined || fuelLeft === undefined ? undefined : fuelBudget - fuelLeft;
        resolve({
          outcome,
          fuelUsed:
            used === undefined ? undefined : Number(used > (fuelBudget ?? 0n) ? fuelBudget : used),
          isOutOfFuel: fuelLeft !== undefined && fuelLeft < 0n,
          isTimedOut,
          stdout: stdout ?? new Uint8Array(0),
        });
      };
      const sink: WorkerSink = {
        onEvent(event) {
          if (event.type === 'log') {
            if (!isDone) for (const line of event.lines) spec.onLog(event.stream, line);
            return;
          }
          if (event.type !== 'exit') return;
          if (worker) pool.release(worker);
          worker = undefined;
          settle(event.outcome, event.fuelLeft, event.stdout);
        },
        onDeath() {
          worker = undefined;
          settle({ kind: 'trap', message: 'the task worker died' }, undefined, undefined);
        },
      };
      const timer = setTimeout(() => {
        isTimedOut = true;
        const words = new Int32Array(control);
        Atomics.store(words, 0, 1);
        Atomics.notify(words, 0);
        if (prepared.isResumable) return shared.stop(taskId);
        if (worker) pool.discard(worker);
        worker = undefined;
        settle({ kind: 'stopped' }, undefined, undefined);
      }, timeoutMs);
      if (prepared.isResumable) {
        shared.run(request, prepared.module, sink);
      } else {
        worker = pool.acquire();
        worker.run(request, prepared.module, sink);
      }
    });
  }

  async function startWagi(record: WasmTask, argv: string[]): Promise<TaskHandle> {
    const { spec } = record;
    record.wagiArgv = argv;
    tasks.set(spec.taskId, record);
    try {
      record.wagi = await createWagiServer({
        port: spec.ports[0] as number,
        bindHost: options.bindHost,
        appEnv: spec.env,
        runInstance: (params) => runInstance(record, params),
        onRequest: (figures) => {
          record.wagiFuelUsed = Math.min(
            (record.wagiFuelUsed ?? 0) + (figures.fuelUsed ?? 0),
            Number.MAX_SAFE_INTEGER,
          );
          options.onRequest?.(spec.taskId, figures);
        },
      });
    } catch (error) {
      tasks.delete(spec.taskId);
      throw new Error(`cannot listen on the task's port: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return record.handle;
  }

  return {
    kind: 'wasm',
    makesSandbox: true,

    async start(spec) {
      const existing = tasks.get(spec.taskId);
      if (existing) return existing.handle;
      const { argv, prepared } = await loadModule(spec);
      let resolveExit: (exit: TaskExit) => void = () => undefined;
      const exited = new Promise<TaskExit>((resolve) => (resolveExit = resolve));
      const isWagi = isWagiApp(spec.labels) && spec.ports.length > 0;
      const isSocketMode = !isWagi && spec.ports.length > 0;
      const record: WasmTask = {
        handle: { taskId: spec.taskId, kind: 'wasm', startedAt: Date.now() },
        spec,
        prepared,
        fuelBudget: shouldMeterFuel
          ? (spec.limits.fuel ?? options.defaultFuel ?? defaultFuelBudget)
          : undefined,
        // [0] stop flag, [1] socket wake counter (wasi/waiter.ts), then the fuel left.
        control: new SharedArrayBuffer(CONTROL_BYTES),
        // A handler task runs no instance of its own (each request does): nothing to stop on a thread.
        isResident: prepared.isResumable && !isWagi,
        exited,
        resolveExit,
      };
      // Nothing used yet: the worker publishes the fuel left from its first host call on.
      if (record.fuelBudget !== undefined) publishFuelLeft(record.control, record.fuelBudget);
      // Each request's instance has a host of its own: the sandbox they share is made at once.
      if (isWagi && spec.sandboxFiles) makeSandbox(spec.sandboxDir, spec.sandboxFiles);
      if (isWagi) return startWagi(record, argv);
      tasks.set(spec.taskId, record);
      if (isSocketMode) {
        record.netBacklog = [];
        try {
          record.net = await createNetHost({
            ports: spec.ports,
            bindHost: options.bindHost,
            deliver: (events) => deliverNet(record, events),
          });
        } catch (error) {
          tasks.delete(spec.taskId);
          throw new Error(`cannot listen on the task's ports: ${(error as Error).message}`, {
            cause: error,
          });
        }
      }
      const started = new Promise<void>((resolve, reject) => {
        record.onStarted = (error) => (error ? reject(error) : resolve());
      });
      const request: RunRequest = {
        type: 'run',
        taskId: spec.taskId,
        moduleKey: prepared.key,
        args: argv,
        // wasmtime's --tcplisten convention: the listeners are fds 3…3+LISTEN_FDS-1.
        env: isSocketMode ? { ...spec.env, LISTEN_FDS: String(spec.ports.length) } : spec.env,
        sandboxDir: spec.sandboxDir,
        sandboxFiles: spec.sandboxFiles,
        maxLogLineBytes,
        diskQuotaBytes: spec.limits.diskMiB * 1024 * 1024,
        control: record.control,
        isResumable: prepared.isResumable,
        importedMemory: prepared.importedMemory,
        fuelSlice,
        fuelBudget: record.fuelBudget,
        listeners: isSocketMode ? spec.ports.length : undefined,
        cpus: spec.limits.cpus,
        cpuLimit: options.cpuLimit ?? 'shares',
      };
      const sink: WorkerSink = {
        onEvent: (event) => onEvent(record, event),
        onDeath: (error) => {
          record.worker = undefined;
          if (record.endedBy) return finish(record, killedExit(record));
          const message = `the task worker died: ${error?.message ?? 'exited'}`;
          finish(record, {
            state: 'TASK_FAILED',
            reason: FailureReason.TRAP,
            message: failureMessage(FailureReason.TRAP, message),
          });
        },
      };
      if (prepared.isResumable) {
        shared.run(request, prepared.module, sink);
      } else {
        const worker = pool.acquire();
        record.worker = worker;
        worker.run(request, prepared.module, sink);
      }
      const backlog = record.netBacklog;
      record.netBacklog = undefined;
      if (backlog && backlog.length > 0) deliverNet(record, backlog);
      const timeoutMs = timeoutOf(spec);
      if (timeoutMs > 0) record.timer = setTimeout(() => void end(record, 'TIMEOUT'), timeoutMs);
      try {
        await started;
      } catch (error) {
        tasks.delete(spec.taskId);
        record.net?.close();
        throw error;
      }
      return record.handle;
    },

    async wait(taskId) {
      const record = tasks.get(taskId);
      if (!record) throw new Error(`unknown wasm task ${taskId}`);
      return record.exited;
    },

    async stop(taskId) {
      const record = tasks.get(taskId);
      if (!record) return;
      await end(record, 'KILLED');
    },

    async destroy(taskId) {
      const record = tasks.get(taskId);
      if (!record) return;
      await end(record, 'KILLED');
      tasks.delete(taskId);
    },

    inspect(taskId) {
      return tasks.get(taskId)?.handle;
    },

    fuelUsed(taskId) {
      const record = tasks.get(taskId);
      if (!record || record.exit) return undefined;
      // A handler's fuel is its requests' so far; a thread's is what its worker last published.
      if (record.wagi) return record.wagiFuelUsed ?? 0;
      return fuelUsedOf(record, readFuelLeft(record.control));
    },

    async recover() {
      // A Wasm task lives in a thread of the agent process: it cannot outlive it.
      return false;
    },

    async close() {
      await Promise.all([...tasks.values()].map((record) => end(record, 'KILLED')));
      await Promise.all([pool.close(), shared.close(), cache.close()]);
    },
  };
}
