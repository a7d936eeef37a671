// Worker threads shared by resident (resumable) tasks: many sleeping tasks per thread, each
// task's events routed by its id, a kill sent as a message instead of terminating the thread.
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../lib/index.js';
import {
  collectWhenDue,
  terminated,
  workerExecArgv,
  type Collecting,
  type WorkerSink,
} from './worker-pool.js';
import {
  workerModuleSlots,
  type Collected,
  type NetDelivery,
  type RunBatch,
  type RunRequest,
  type StopRequest,
  type WorkerEvent,
} from './worker-messages.js';

/** Threads that interleave resident tasks. */
export interface SharedWorkers {
  /** Places the task on the least loaded thread (spawned when needed); events go to `sink`. */
  run(request: RunRequest, module: WebAssembly.Module, sink: WorkerSink): void;
  /**
   * Asks the task's thread to end it; the thread answers with its `exit` event (outcome
   * `stopped`) once the task no longer runs. The task keeps its place (the thread's load) until
   * then. Idempotent.
   */
  stop(taskId: string): void;
  /** Posts socket traffic to a resident task's thread (after its run request). */
  post(message: NetDelivery): void;
  /**
   * Starts threads up to `threads` now (idempotent): a thread takes hundreds of milliseconds of
   * CPU to boot, which the first resident launches would otherwise wait for.
   */
  warm(): void;
  /** Resident tasks held. */
  readonly taskCount: number;
  close(): Promise<void>;
}

interface Shared extends Collecting {
  sinks: Map<string, WorkerSink>;
  modules: Set<string>;
  isDead: boolean;
  /** Requests not posted yet: sent together at the end of this turn of the event loop. */
  outbox: RunRequest[];
  /** Deadlines of the stops not answered yet, by task id. */
  stopping: Map<string, NodeJS.Timeout>;
}

/**
 * How long a thread may take to end a task it was told to stop. A task stops at the end of its
 * fuel slice (milliseconds), so a thread still running it after this is stuck (a host call that
 * never returns): it is terminated, failing its other tasks, rather than reporting the task
 * ended while its code still runs beside new ones.
 */
const STOP_DEADLINE_MS = 5_000;

export function createSharedWorkers(options: {
  /** Threads used before any holds `tasksPerThread` tasks. */
  threads: number;
  tasksPerThread: number;
  logger: Logger;
  workerUrl: URL;
  /** See STOP_DEADLINE_MS (tests shorten it). */
  stopDeadlineMs?: number;
}): SharedWorkers {
  const stopDeadlineMs = options.stopDeadlineMs ?? STOP_DEADLINE_MS;
  const all: Shared[] = [];
  const placed = new Map<string, Shared>();

  function spawn(): Shared {
    const worker = new Worker(options.workerUrl, {
      // A thread holds many tasks' host state: a larger JS heap than a pooled worker's.
      resourceLimits: { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 },
      stdout: false,
      stderr: false,
      execArgv: workerExecArgv(),
    });
    const shared: Shared = {
      worker,
      sinks: new Map(),
      modules: new Set(),
      isDead: false,
      outbox: [],
      stopping: new Map(),
      runsSinceCollect: 0,
      isCollecting: false,
    };
    worker.on('message', (events: WorkerEvent[] | Collected) => {
      if (!Array.isArray(events)) {
        shared.isCollecting = false;
        return;
      }
      for (const event of events) {
        const sink = shared.sinks.get(event.taskId);
        if (event.type === 'exit') forget(shared, event.taskId);
        sink?.onEvent(event);
      }
      collectIfIdle(shared);
    });
    worker.on('error', (error) => {
      options.logger.warn({ err: error }, 'shared task worker crashed');
      die(shared, error);
    });
    worker.on('exit', () => die(shared, undefined));
    worker.unref();
    all.push(shared);
    return shared;
  }

  /** Gives a thread up: its tasks end with it (failed, or as stopped if they were). */
  function die(shared: Shared, error: Error | undefined): void {
    if (shared.isDead) return;
    shared.isDead = true;
    all.splice(all.indexOf(shared), 1);
    for (const timer of shared.stopping.values()) clearTimeout(timer);
    shared.stopping.clear();
    // Every task of the thread is lost with it: the price of sharing (README).
    for (const [taskId, sink] of shared.sinks) {
      placed.delete(taskId);
      sink.onDeath(error);
    }
    shared.sinks.clear();
  }

  function forget(shared: Shared, taskId: string): void {
    clearTimeout(shared.stopping.get(taskId));
    shared.stopping.delete(taskId);
    if (!shared.sinks.delete(taskId)) return;
    placed.delete(taskId);
    if (shared.sinks.size === 0) shared.worker.unref();
  }

  /** Asks an idle thread to collect garbage now, between launches rather than inside one. */
  function collectIfIdle(shared: Shared): void {
    if (!shared.isDead && shared.sinks.size === 0) collectWhenDue(shared);
  }

  function flush(shared: Shared): void {
    if (shared.outbox.length === 0 || shared.isDead) return;
    const message: RunBatch = { type: 'runs', requests: shared.outbox };
    shared.outbox = [];
    shared.worker.postMessage(message);
  }

  function pick(): Shared {
    let best: Shared | undefined;
    for (const shared of all) if (!best || less(shared, best)) best = shared;
    if (best && (all.length >= options.threads || best.sinks.size === 0)) {
      if (best.sinks.size < options.tasksPerThread) return best;
    }
    return spawn();
  }

  function warm(): void {
    while (all.length < options.threads) spawn();
  }

  /** Fewer tasks first; a thread collecting garbage only when no other has fewer. */
  function less(a: Shared, b: Shared): boolean {
    if (a.isCollecting !== b.isCollecting) return !a.isCollecting;
    return a.sinks.size < b.sinks.size;
  }

  return {
    run(request, module, sink) {
      const shared = pick();
      // The first resident task starts the other threads too, in the background: a thread boots
      // in hundreds of milliseconds of CPU, which a burst of launches would otherwise pay in its
      // middle (the second task spawns one), on the same cores as the launches (profiled: a
      // quarter of a warm agent's CPU in a burst of 250). An agent with no resident task starts none.
      warm();
      // A handler request's instance lives in a pooled memory (memory-pool.ts) and reserves no
      // address space of its own, the reason for these collections; each costs the thread tens
      // of milliseconds with thousands of dead instances in its heap, so requests are left to
      // V8's own collector (one every 64 requests took 0.3–2 ms a request, under load).
      if (!request.importedMemory) shared.runsSinceCollect++;
      if (!shared.modules.has(request.moduleKey)) {
        shared.modules.add(request.moduleKey);
        if (shared.modules.size > workerModuleSlots) {
          const oldest = shared.modules.values().next().value;
          if (oldest !== undefined) shared.modules.delete(oldest);
        }
        request.module = module;
      }
      if (shared.sinks.size === 0) shared.worker.ref();
      shared.sinks.set(request.taskId, sink);
      placed.set(request.taskId, shared);
      if (shared.outbox.push(request) === 1) setImmediate(() => flush(shared));
    },
    stop(taskId) {
      const shared = placed.get(taskId);
      if (!shared) return;
      flush(shared); // the stop must not overtake the run
      const message: StopRequest = { type: 'stop', taskId };
      shared.worker.postMessage(message);
      if (shared.stopping.has(taskId)) return;
      const deadline = setTimeout(() => {
        if (shared.isDead || !shared.sinks.has(taskId)) return;
        const error = new Error(
          `the shared thread did not end task ${taskId} within ${stopDeadlineMs} ms`,
        );
        options.logger.warn({ taskId, tasks: shared.sinks.size }, error.message);
        die(shared, error);
        void terminated(shared.worker);
      }, stopDeadlineMs);
      deadline.unref();
      shared.stopping.set(taskId, deadline);
    },
    post(message) {
      const shared = placed.get(message.taskId);
      if (!shared) return;
      flush(shared); // the traffic must not overtake the run
      shared.worker.postMessage(message);
    },
    warm,
    get taskCount() {
      return placed.size;
    },
    async close() {
      await Promise.all(all.map((shared) => terminated(shared.worker)));
    },
  };
}
