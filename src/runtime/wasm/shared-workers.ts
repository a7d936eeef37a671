// Worker threads shared by resident (resumable) tasks: many sleeping tasks per thread, each
// task's events routed by its id, a kill sent as a message instead of terminating the thread.
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../lib/index.js';
import { workerExecArgv, type WorkerSink } from './worker-pool.js';
import {
  workerModuleSlots,
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

interface Shared {
  worker: Worker;
  sinks: Map<string, WorkerSink>;
  modules: Set<string>;
  isDead: boolean;
  /** Requests not posted yet: sent together at the end of this turn of the event loop. */
  outbox: RunRequest[];
}

export function createSharedWorkers(options: {
  /** Threads used before any holds `tasksPerThread` tasks. */
  threads: number;
  tasksPerThread: number;
  logger: Logger;
  workerUrl: URL;
}): SharedWorkers {
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
    };
    worker.on('message', (events: WorkerEvent[]) => {
      for (const event of events) {
        const sink = shared.sinks.get(event.taskId);
        if (event.type === 'exit') forget(shared, event.taskId);
        sink?.onEvent(event);
      }
    });
    const die = (error: Error | undefined): void => {
      if (shared.isDead) return;
      shared.isDead = true;
      all.splice(all.indexOf(shared), 1);
      // Every task of the thread is lost with it: the price of sharing (README).
      for (const [taskId, sink] of shared.sinks) {
        placed.delete(taskId);
        sink.onDeath(error);
      }
      shared.sinks.clear();
    };
    worker.on('error', (error) => {
      options.logger.warn({ err: error }, 'shared task worker crashed');
      die(error);
    });
    worker.on('exit', () => die(undefined));
    worker.unref();
    all.push(shared);
    return shared;
  }

  function forget(shared: Shared, taskId: string): void {
    if (!shared.sinks.delete(taskId)) return;
    placed.delete(taskId);
    if (shared.sinks.size === 0) shared.worker.unref();
  }

  function flush(shared: Shared): void {
    if (shared.outbox.length === 0 || shared.isDead) return;
    const message: RunBatch = { type: 'runs', requests: shared.outbox };
    shared.outbox = [];
    shared.worker.postMessage(message);
  }

  function pick(): Shared {
    let best: Shared | undefined;
    for (const shared of all) if (!best || shared.sinks.size < best.sinks.size) best = shared;
    if (best && (all.length >= options.threads || best.sinks.size === 0)) {
      if (best.sinks.size < options.tasksPerThread) return best;
    }
    return spawn();
  }

  return {
    run(request, module, sink) {
      const shared = pick();
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
    },
    post(message) {
      const shared = placed.get(message.taskId);
      if (!shared) return;
      flush(shared); // the traffic must not overtake the run
      shared.worker.postMessage(message);
    },
    warm() {
      while (all.length < options.threads) spawn();
    },
    get taskCount() {
      return placed.size;
    },
    async close() {
      await Promise.all(all.map((shared) => shared.worker.terminate()));
    },
  };
}
