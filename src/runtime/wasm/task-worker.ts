// Worker thread entry: runs one task at a time (instantiate, WASI host, `_start`) and reports
// its logs and outcome. Runs from dist/ only (compiled JS).
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort } from 'node:worker_threads';
import { fuelCharger, setFuelBudget } from './fuel-counter.js';
import { startExport } from './instrument-module.js';
import { startResidentTask, type ResidentTask } from './resident-task.js';
import { ProcExit, StopRequested, createWasiHost } from './wasi-host.js';
import {
  InstrumentExports,
  type RunBatch,
  type RunOutcome,
  type RunRequest,
  type StopRequest,
  type WorkerEvent,
  workerModuleSlots,
} from './worker-messages.js';

const port = parentPort;
if (!port) throw new Error('task-worker must run in a worker thread');

/**
 * V8 allocates each Wasm instance's own objects in old space, so a worker running many short
 * tasks fills its old generation with dead instances, and V8 collects it (a 3–7 ms pause here,
 * finished in a task on this thread's event loop) whenever that crosses its limit: often just
 * as the next launch arrives. A pooled worker collects instead once its heap is
 * `collectAfterBytes` above the lowest it has been, after a task and before it reports the
 * task's exit: the one moment no launch can be waiting for it (it is not free until then).
 * `gc` comes from a fresh context created while `--expose-gc` is on; the flag is process-wide
 * (every context created while it is on gets a global `gc`), so it is turned off at once.
 */
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as (options: { type: 'major' }) => void;
setFlagsFromString('--no-expose-gc');
const collectAfterBytes = 2 * 1024 * 1024;
let heapFloor = Infinity;

function collectIfGrown(): void {
  const used = getHeapStatistics().used_heap_size;
  heapFloor = Math.min(heapFloor, used);
  if (used - heapFloor < collectAfterBytes) return;
  collectGarbage({ type: 'major' });
  heapFloor = getHeapStatistics().used_heap_size;
}

function post(event: WorkerEvent): void {
  port?.postMessage(event);
}

function describeTrap(error: unknown): string {
  if (error instanceof RangeError && /call stack/i.test(error.message))
    return 'call stack exhausted';
  if (error instanceof Error) return error.message;
  return String(error);
}

function outcomeOf(error: unknown): RunOutcome {
  if (error instanceof ProcExit)
    return error.code === 0 ? { kind: 'returned' } : { kind: 'exit', code: error.code };
  if (error instanceof StopRequested) return { kind: 'stopped' };
  return { kind: 'trap', message: describeTrap(error) };
}

/** Compiled modules by key, first in first out (the pool mirrors this bookkeeping). */
const modules = new Map<string, WebAssembly.Module>();

function moduleOf(request: RunRequest): WebAssembly.Module {
  if (request.module) {
    modules.set(request.moduleKey, request.module);
    if (modules.size > workerModuleSlots) {
      const oldest = modules.keys().next().value;
      if (oldest !== undefined) modules.delete(oldest);
    }
    return request.module;
  }
  const module = modules.get(request.moduleKey);
  if (!module) throw new Error(`module ${request.moduleKey} was never sent to this worker`);
  return module;
}

/** Runs one pooled task; returns its exit, which the caller posts. */
function run(request: RunRequest): WorkerEvent {
  const { taskId } = request;
  const module = moduleOf(request);
  let fuel: WebAssembly.Global | undefined;
  const host = createWasiHost({
    args: request.args,
    env: request.env,
    sandboxDir: request.sandboxDir,
    maxLogLineBytes: request.maxLogLineBytes,
    diskQuotaBytes: request.diskQuotaBytes,
    control: new Int32Array(request.control),
    onLog: (stream, lines) => post({ type: 'log', taskId, stream, lines }),
    chargeFuel: fuelCharger(() => fuel),
  });
  let instance: WebAssembly.Instance | undefined;
  let outcome: RunOutcome;
  try {
    try {
      instance = new WebAssembly.Instance(module, { wasi_snapshot_preview1: host.imports });
    } catch (error) {
      // A start function ran and trapped, or the imports did not link.
      if (error instanceof WebAssembly.LinkError) {
        return { type: 'exit', taskId, outcome: { kind: 'link-error', message: error.message } };
      }
      throw error;
    }
    fuel = setFuelBudget(instance, request.fuelBudget);
    const { memory, _start: start, [startExport]: startFunction } = instance.exports;
    if (memory instanceof WebAssembly.Memory) host.setMemory(memory);
    post({ type: 'started', taskId });
    // The module's start function, moved out of instantiation by the rewriter so that its
    // fuel and traps are reported like the rest of the run.
    if (typeof startFunction === 'function') (startFunction as () => void)();
    (start as () => void)();
    outcome = { kind: 'returned' };
  } catch (error) {
    if (!instance) post({ type: 'started', taskId });
    outcome = outcomeOf(error);
  }
  host.close();
  const grow = instance?.exports[InstrumentExports.growRefused];
  return {
    type: 'exit',
    taskId,
    outcome,
    fuelLeft: fuel ? (fuel.value as bigint) : undefined,
    isGrowRefused: grow instanceof WebAssembly.Global ? grow.value !== 0 : undefined,
  };
}

/** Resident (resumable) tasks of this worker by task id. */
const residents = new Map<string, ResidentTask>();
/** Events of resident tasks, posted together once per turn of this thread's event loop. */
let outbox: WorkerEvent[] = [];

function flush(): void {
  const events = outbox;
  outbox = [];
  port?.postMessage(events);
}

function startResident(request: RunRequest): void {
  const { taskId } = request;
  const task = startResidentTask({
    request,
    module: moduleOf(request),
    outcomeOf,
    post(event) {
      if (event.type === 'exit') residents.delete(taskId);
      if (outbox.push(event) === 1) setImmediate(flush);
    },
  });
  residents.set(taskId, task);
}

port.on('message', (message: RunRequest | RunBatch | StopRequest) => {
  switch (message.type) {
    case 'stop':
      // Between turns (this handler never runs during one): the task is not running, and its
      // exit (stopped) tells the driver so.
      residents.get(message.taskId)?.stop();
      return;
    case 'runs':
      for (const request of message.requests) startResident(request);
      return;
    case 'run': {
      if (message.isResumable) return startResident(message);
      const exit = run(message);
      collectIfGrown(); // the task's instance is garbage now
      post(exit);
      return;
    }
    default: {
      const never: never = message;
      throw new Error(`unknown message ${JSON.stringify(never)}`);
    }
  }
});
