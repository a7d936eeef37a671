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
import { defaultModuleCaps, type ModuleCaps } from './check-module.js';
import { createModuleCache, type PreparedModule } from './module-cache.js';
import { resumableTransformer } from './resumable-transformer.js';
import { createSharedWorkers } from './shared-workers.js';
import {
  createWorkerPool,
  resolveWorkerUrl,
  type PooledWorker,
  type WorkerSink,
} from './worker-pool.js';
import type { RunOutcome, RunRequest, WorkerEvent } from './worker-messages.js';

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
   * True (default) loads binaryen in its background process at once, so the first sleeping
   * module's launch does not wait seconds for it (resumable-transformer.ts), and starts the
   * pool's and the shared threads; false leaves all of them to the first tasks (a small idle
   * agent).
   */
  shouldPrewarmResumable?: boolean;
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
}

export const defaultFuelBudget = 100_000_000_000n;

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
    record.resolveExit(exit);
  }

  function fuelUsedOf(record: WasmTask, fuelLeft: bigint | undefined): number | undefined {
    const budget = record.fuelBudget;
    if (budget === undefined || fuelLeft === undefined) return undefined;
    const used = budget - fuelLeft;
    return Number(used > budget ? budget : used);
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
        return killedExit(record);
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
    return {
      state: 'TASK_KILLED',
      reason: FailureReason.KILLED,
      message: failureMessage(FailureReason.KILLED, 'killed on request'),
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
    const limits = { memMiB: spec.limits.memMiB, isMetered: shouldMeterFuel };
    // Fetched files sit at the top of the sandbox, under the last segment of their URI.
    const path = join(spec.sandboxDir, basename(file));
    const identity = fileIdentity(path);
    const known = identity === undefined ? undefined : fileDigests.get(identity);
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

  return {
    kind: 'wasm',

    async start(spec) {
      const existing = tasks.get(spec.taskId);
      if (existing) return existing.handle;
      const { argv, prepared } = await loadModule(spec);
      let resolveExit: (exit: TaskExit) => void = () => undefined;
      const exited = new Promise<TaskExit>((resolve) => (resolveExit = resolve));
      const record: WasmTask = {
        handle: { taskId: spec.taskId, kind: 'wasm', startedAt: Date.now() },
        spec,
        prepared,
        fuelBudget: shouldMeterFuel
          ? (spec.limits.fuel ?? options.defaultFuel ?? defaultFuelBudget)
          : undefined,
        control: new SharedArrayBuffer(4),
        isResident: prepared.isResumable,
        exited,
        resolveExit,
      };
      tasks.set(spec.taskId, record);
      const started = new Promise<void>((resolve, reject) => {
        record.onStarted = (error) => (error ? reject(error) : resolve());
      });
      const request: RunRequest = {
        type: 'run',
        taskId: spec.taskId,
        moduleKey: prepared.key,
        args: argv,
        env: spec.env,
        sandboxDir: spec.sandboxDir,
        maxLogLineBytes,
        diskQuotaBytes: spec.limits.diskMiB * 1024 * 1024,
        control: record.control,
        isResumable: prepared.isResumable,
        fuelSlice,
        fuelBudget: record.fuelBudget,
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
      const timeoutMs = timeoutOf(spec);
      if (timeoutMs > 0) record.timer = setTimeout(() => void end(record, 'TIMEOUT'), timeoutMs);
      try {
        await started;
      } catch (error) {
        tasks.delete(spec.taskId);
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
