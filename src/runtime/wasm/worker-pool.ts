// A pool of warm task workers: a task takes an idle worker (or a new one when none is idle),
// gives it back when it ends, and a killed worker is replaced so the pool stays warm.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../lib/index.js';
import {
  workerModuleSlots,
  type Collected,
  type CollectRequest,
  type NetDelivery,
  type RunRequest,
  type WorkerEvent,
} from './worker-messages.js';

/** One worker thread and the task it currently runs. */
export interface PooledWorker {
  readonly id: number;
  /**
   * Sends a run request, with `module` attached only if this worker does not hold
   * `request.moduleKey` yet; events come to `onEvent` until the worker is released.
   */
  run(request: RunRequest, module: WebAssembly.Module, sink: WorkerSink): void;
  /** Posts socket traffic for the task it runs (socket mode). */
  post(message: NetDelivery): void;
}

export interface WorkerSink {
  onEvent(event: WorkerEvent): void;
  /** The thread died (crash or terminate) while the task was on it. */
  onDeath(error: Error | undefined): void;
}

export interface WorkerPool {
  /** An idle warm worker, or a new one. */
  acquire(): PooledWorker;
  /** Returns a worker whose task ended normally; kept warm while the pool is below its size. */
  release(worker: PooledWorker): void;
  /**
   * Terminates a worker (kill, timeout) at once: its sink is dropped, so no event of it is
   * delivered any more; the thread stops and is replaced in the background.
   */
  discard(worker: PooledWorker): void;
  /** Number of live worker threads (busy and idle). */
  readonly size: number;
  close(): Promise<void>;
}

/**
 * The compiled worker script. Under vitest the driver runs from `src/*.ts`, but a worker
 * thread on Node 20 cannot load TypeScript, so `<root>/src/x.ts` maps to `<root>/dist/x.js`.
 */
export function resolveWorkerUrl(moduleUrl: string, name: string): URL {
  const here = fileURLToPath(moduleUrl);
  let target = fileURLToPath(new URL(`./${name}.js`, moduleUrl));
  if (here.endsWith('.ts')) {
    const at = target.lastIndexOf('/src/');
    target = `${target.slice(0, at)}/dist/${target.slice(at + '/src/'.length)}`;
  }
  if (!existsSync(target))
    throw new Error(`worker script ${target} is missing: run \`npm run build\``);
  return pathToFileURL(target);
}

/**
 * Terminates `worker` and resolves once it has exited. A timer keeps the process alive until
 * then: Node lets go of a terminating worker's handle, so a process with nothing else to do
 * ends while a thread holding many tasks still shuts down (it takes up to a second), the
 * awaiting promise never settles, and a bench or CLI exits with code 13 instead of returning
 * from `close` (bench:wasm's density section did, 5 runs in 6).
 */
export async function terminated(worker: Worker): Promise<number> {
  const keepAlive = setInterval(() => undefined, 1_000);
  try {
    return await worker.terminate();
  } finally {
    clearInterval(keepAlive);
  }
}

/**
 * The parent's node flags for task worker threads: without loader hooks, and without the V8
 * flags bin/pacer gives the agent (`pacer agent`, issue 14) or one may add by hand. V8's flags
 * are process-wide, so the threads have them anyway, and Node refuses them in a worker's
 * execArgv (ERR_WORKER_INVALID_EXEC_ARGV): no task thread would start.
 */
export function workerExecArgv(): string[] {
  return process.execArgv.filter(
    (arg, i, all) => !isLoaderFlag(arg) && !isSeparateLoaderValue(all[i - 1]) && !isV8Flag(arg),
  );
}

/** The V8 flags bin/pacer passes (process-wide; refused in a worker's execArgv). */
function isV8Flag(arg: string): boolean {
  return /^--(max-semi-space-size|expose[-_]gc|(no-)?(opt|turbofan))(=|$)/.test(arg);
}

/** `--import x`, `--loader=x`, … : flags that add module hooks (and the argument after them). */
function isLoaderFlag(arg: string | undefined): boolean {
  return (
    arg !== undefined && /^(--import|--loader|--experimental-loader|--require|-r)(=|$)/.test(arg)
  );
}

function isSeparateLoaderValue(previous: string | undefined): boolean {
  return previous !== undefined && isLoaderFlag(previous) && !previous.includes('=');
}

/**
 * Tasks a thread runs between the collections the driver asks for once it is idle (see
 * CollectRequest in worker-messages.ts).
 */
export const collectEveryRuns = 64;

/** A worker thread's side of the planned collections (pooled or shared). */
export interface Collecting {
  worker: Worker;
  /** Tasks run since the thread last collected garbage on request. */
  runsSinceCollect: number;
  /** A collection was asked and not answered yet: other threads go first meanwhile. */
  isCollecting: boolean;
}

/** Asks an idle `thread` to collect garbage once it has run `collectEveryRuns` tasks since. */
export function collectWhenDue(thread: Collecting): void {
  if (thread.isCollecting || thread.runsSinceCollect < collectEveryRuns) return;
  thread.runsSinceCollect = 0;
  thread.isCollecting = true;
  const message: CollectRequest = { type: 'collect' };
  thread.worker.postMessage(message);
}

interface Slot extends PooledWorker, Collecting {
  idleSince: number;
  sink?: WorkerSink;
  isDead: boolean;
  /** Module keys the worker holds, oldest first. */
  modules: Set<string>;
}

export function createWorkerPool(options: {
  size: number;
  logger: Logger;
  workerUrl: URL;
  /** Idle workers beyond `size` are terminated after this long (default 30 s). */
  idleTrimMs?: number;
  /**
   * Start `size` workers at once (default true). False: the first tasks start them, and an idle
   * agent holds none (each costs megabytes; issue 14's footprint).
   */
  shouldStartWarm?: boolean;
}): WorkerPool {
  const idle: Slot[] = [];
  const live = new Set<Slot>();
  /** Terminations still under way (discarded workers), awaited by `close`. */
  const dying = new Set<Promise<unknown>>();
  let nextId = 1;
  let isClosed = false;

  function spawn(): Slot {
    const worker = new Worker(options.workerUrl, {
      // Small JS heaps: a task's memory is its Wasm linear memory, which these limits do not count.
      resourceLimits: { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8, stackSizeMb: 4 },
      stdout: false,
      stderr: false,
      // The script is compiled JS: loader hooks of the parent (tsx under tests and benchmarks)
      // would only slow the start and fatten every thread.
      execArgv: workerExecArgv(),
    });
    const slot: Slot = {
      id: nextId++,
      worker,
      isDead: false,
      idleSince: Date.now(),
      modules: new Set(),
      runsSinceCollect: 0,
      isCollecting: false,
      run(request, module, sink) {
        slot.sink = sink;
        // A task whose module imports its memory gets a kept one (task-worker.ts) and reserves
        // no address space, the reason for these collections. Each is a full collection with
        // V8's helper threads, on a 2-core agent the launches' cores: with them every 64 runs,
        // the slowest launches (p99) were mostly those that ran beside another thread's one.
        if (!request.importedMemory) slot.runsSinceCollect++;
        worker.ref();
        if (!slot.modules.has(request.moduleKey)) {
          // Mirrors the worker's own first-in first-out module slots (worker-messages.ts).
          slot.modules.add(request.moduleKey);
          if (slot.modules.size > workerModuleSlots) {
            const oldest = slot.modules.values().next().value;
            if (oldest !== undefined) slot.modules.delete(oldest);
          }
          request.module = module;
        }
        worker.postMessage(request);
      },
      post(message) {
        worker.postMessage(message);
      },
    };
    worker.on('message', (event: WorkerEvent | Collected) => {
      if (event.type === 'collected') slot.isCollecting = false;
      else slot.sink?.onEvent(event);
    });
    worker.on('error', (error) => {
      options.logger.warn({ err: error, worker: slot.id }, 'task worker crashed');
      die(slot, error);
    });
    worker.on('exit', () => die(slot, undefined));
    // Idle workers must not keep the agent process alive.
    worker.unref();
    live.add(slot);
    return slot;
  }

  function die(slot: Slot, error: Error | undefined): void {
    if (slot.isDead) return;
    slot.isDead = true;
    live.delete(slot);
    const at = idle.indexOf(slot);
    if (at >= 0) idle.splice(at, 1);
    const sink = slot.sink;
    slot.sink = undefined;
    sink?.onDeath(error);
    // Spawning costs the main thread a few ms: not inside the kill that caused it.
    if (!isClosed) setImmediate(warm);
  }

  function warm(): void {
    while (!isClosed && live.size < options.size) idle.push(spawn());
  }

  if (options.shouldStartWarm ?? true) warm();
  const idleTrimMs = options.idleTrimMs ?? 30_000;
  const trimmer = setInterval(
    () => {
      const now = Date.now();
      // Oldest idle workers first; never below the warm size.
      for (let i = 0; i < idle.length && live.size > options.size;) {
        const slot = idle[i] as Slot;
        if (now - slot.idleSince < idleTrimMs) {
          i++;
          continue;
        }
        idle.splice(i, 1);
        void slot.worker.terminate();
      }
    },
    Math.max(1000, idleTrimMs / 2),
  );
  trimmer.unref();

  return {
    acquire() {
      if (isClosed) throw new Error('worker pool is closed');
      // The most recently idle worker that is not collecting garbage; else one that is (its
      // task waits for the collection, a few ms), before a new thread (~25 ms).
      let at = idle.length - 1;
      while (at >= 0 && (idle[at] as Slot).isCollecting) at--;
      if (at < 0) at = idle.length - 1;
      if (at >= 0) return idle.splice(at, 1)[0] as Slot;
      return spawn();
    },
    release(worker) {
      const slot = worker as Slot;
      slot.sink = undefined;
      if (slot.isDead) return;
      slot.worker.unref();
      if (isClosed) {
        void slot.worker.terminate();
        return;
      }
      // Kept even beyond `size`: a burst that needed more workers is likely to come back, and a
      // new worker costs ~25 ms. Surplus idle workers are trimmed after `idleTrimMs`.
      slot.idleSince = Date.now();
      idle.push(slot);
      collectWhenDue(slot);
    },
    discard(worker) {
      const slot = worker as Slot;
      if (slot.isDead) return;
      slot.sink = undefined;
      // Counted as gone now, so the replacement starts while the old thread winds down.
      die(slot, undefined);
      const stopped: Promise<unknown> = terminated(slot.worker).then(
        (): void => void dying.delete(stopped),
        (error: unknown) => {
          dying.delete(stopped);
          options.logger.warn({ err: error, worker: slot.id }, 'terminating a task worker failed');
        },
      );
      dying.add(stopped);
    },
    get size() {
      return live.size;
    },
    async close() {
      isClosed = true;
      clearInterval(trimmer);
      await Promise.all([...[...live].map((slot) => terminated(slot.worker)), ...dying]);
      idle.length = 0;
    },
  };
}
