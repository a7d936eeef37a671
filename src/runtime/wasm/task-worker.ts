// Worker thread entry: runs one task at a time (instantiate, WASI host, `_start`) and reports
// its logs and outcome. Runs from dist/ only (compiled JS).
import { parentPort, receiveMessageOnPort } from 'node:worker_threads';
import { gcFunction } from '../../lib/gc-function.js';
import { fuelCharger, setFuelBudget } from './fuel-counter.js';
import { memoryImport, startExport } from './instrument-module.js';
import { createHostPool } from './host-pool.js';
import { createImportRelay } from './import-relay.js';
import { createMemoryPool } from './memory-pool.js';
import { startResidentTask, type ResidentTask } from './resident-task.js';
import { createSliceScheduler } from './slice-scheduler.js';
import { lowerThreadPriority } from './thread-priority.js';
import { ProcExit, StopRequested, createWasiHost, wasiImportNames } from './wasi-host.js';
import { createNetMirror, type NetMirror } from './wasi/net-mirror.js';
import {
  InstrumentExports,
  publishFuelLeft,
  type Collected,
  type CollectRequest,
  type NetDelivery,
  type RunBatch,
  type RunOutcome,
  type RunRequest,
  type StopRequest,
  type WorkerEvent,
  workerModuleSlots,
} from './worker-messages.js';

const maybePort = parentPort;
if (!maybePort) throw new Error('task-worker must run in a worker thread');
const port = maybePort;
lowerThreadPriority();

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
/** The WASI functions each compiled module imports (its host gets a stub for these only). */
const importNames = new WeakMap<WebAssembly.Module, string[]>();

function importNamesOf(module: WebAssembly.Module): string[] {
  let names = importNames.get(module);
  if (!names) importNames.set(module, (names = wasiImportNames(module)));
  return names;
}

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

/**
 * Zeroed memories for the ordinary tasks of a pooled thread, which runs one at a time: one per
 * shape is reused by the next launch of the same module. A memory is zeroed when its task has
 * ended (after its exit is posted); larger ones than `maxBytes` are left to the GC (zeroing
 * them would cost the thread more than a fresh one, whose pages the kernel zeroes on first touch).
 */
const taskMemories = createMemoryPool({ maxPerShape: 1, maxBytes: 8 * 1024 * 1024 });

/**
 * Runs an ordinary task. A module that imports its memory gets a kept one (zeroed when it was
 * given back): no address-space reservation per launch, and so no full collection to return it,
 * the slowest launches' cost when each instance allocated its own.
 */
function run(request: RunRequest): void {
  const shape = request.importedMemory;
  const memory = shape ? taskMemories.take(shape, shape.minPages) : undefined;
  try {
    runWith(request, memory);
  } finally {
    // Whatever the task did to it (even a trap inside instantiation's data segments): given
    // back zeroed, or dropped when grown or over the pool's bounds.
    if (shape && memory) taskMemories.give(memory, shape, shape.minPages);
  }
}

function runWith(request: RunRequest, givenMemory: WebAssembly.Memory | undefined): void {
  const { taskId } = request;
  const module = moduleOf(request);
  let fuel: WebAssembly.Global | undefined;
  const net: NetMirror | undefined =
    request.listeners !== undefined && request.listeners > 0
      ? createNetMirror({
          listenerCount: request.listeners,
          post: (ops) => post({ type: 'net', taskId, ops }),
        })
      : undefined;
  const host = createWasiHost({
    importNames: importNamesOf(module),
    net,
    // The thread's event loop does not turn while the guest runs: deliveries are taken from
    // the port synchronously (only this task's traffic comes to a pooled worker while it runs).
    receiveNet: () => {
      net?.flush();
      let isReceived = false;
      for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
        const message = m.message as NetDelivery;
        if (message.type === 'net' && message.taskId === taskId && net) {
          net.apply(message.events);
          isReceived = true;
        }
      }
      return isReceived;
    },
    stdin: request.stdin,
    captureStdoutBytes: request.captureStdoutBytes,
    args: request.args,
    env: request.env,
    sandboxDir: request.sandboxDir,
    sandboxFiles: request.sandboxFiles,
    maxLogLineBytes: request.maxLogLineBytes,
    diskQuotaBytes: request.diskQuotaBytes,
    control: new Int32Array(request.control),
    onLog: (stream, lines) => post({ type: 'log', taskId, stream, lines }),
    // A host call is where the guest's counter can be read: published for a running task's
    // fuel used (a tight loop without host calls shows its fuel at its next call or its end).
    chargeFuel: fuelCharger(
      () => fuel,
      () => fuel && publishFuelLeft(request.control, fuel.value as bigint),
    ),
  });
  let instance: WebAssembly.Instance | undefined;
  let outcome: RunOutcome;
  try {
    try {
      const imports: WebAssembly.Imports = { wasi_snapshot_preview1: host.imports };
      if (givenMemory) imports[memoryImport.module] = { [memoryImport.name]: givenMemory };
      instance = new WebAssembly.Instance(module, imports);
    } catch (error) {
      // A start function ran and trapped, or the imports did not link.
      if (error instanceof WebAssembly.LinkError) {
        post({ type: 'exit', taskId, outcome: { kind: 'link-error', message: error.message } });
        return;
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
  post({
    type: 'exit',
    taskId,
    outcome,
    fuelLeft: fuel ? (fuel.value as bigint) : undefined,
    isGrowRefused: grow instanceof WebAssembly.Global ? grow.value !== 0 : undefined,
    stdout: request.captureStdoutBytes === undefined ? undefined : host.stdout(),
  });
}

/** Resident (resumable) tasks of this worker by task id. */
const residents = new Map<string, ResidentTask>();
/** Who of them runs the next slice (one scheduler per thread). */
const scheduler = createSliceScheduler();
/** Zeroed memories for handler-mode instances (memory-pool.ts). */
const memories = createMemoryPool({});
/** Import functions of handler-mode instances, one set for the thread (import-relay.ts). */
const relay = createImportRelay();
/** WASI hosts of handler-mode instances, reset between requests (host-pool.ts). */
const hosts = createHostPool();
/** Events of resident tasks, posted together once per turn of this thread's event loop. */
let outbox: WorkerEvent[] = [];

function flush(): void {
  const events = outbox;
  outbox = [];
  port?.postMessage(events);
}

function startResident(request: RunRequest): void {
  const { taskId } = request;
  // A task may end within its first turn, inside startResidentTask (every WAGI request does):
  // it is then never registered, or each such task would stay in `residents` for good (a leak
  // of ~30 KB of heap per request that made the thread's full collections ever slower).
  let hasEnded = false;
  const module = moduleOf(request);
  const task = startResidentTask({
    request,
    module,
    importNames: importNamesOf(module),
    outcomeOf,
    memories,
    relay,
    hosts,
    postNet(ops) {
      if (outbox.push({ type: 'net', taskId, ops }) === 1) setImmediate(flush);
    },
    scheduler,
    post(event) {
      if (event.type === 'exit') {
        hasEnded = true;
        residents.delete(taskId);
      }
      if (outbox.push(event) === 1) setImmediate(flush);
    },
  });
  if (!hasEnded) residents.set(taskId, task);
}

/** A full collection on demand (CollectRequest); `--expose-gc` cannot be given to a worker. */
const collectGarbage = gcFunction();

/** What the driver sends a worker (a pooled one gets `run`, `net` and `collect` only). */
type Inbound = RunRequest | RunBatch | StopRequest | NetDelivery | CollectRequest;

port.on('message', (message: Inbound) => {
  switch (message.type) {
    case 'collect': {
      collectGarbage();
      const done: Collected = { type: 'collected' };
      port.postMessage(done);
      return;
    }
    case 'net':
      // A pooled task's late traffic (it ended) finds no resident and is dropped.
      residents.get(message.taskId)?.deliver(message.events);
      return;
    case 'stop':
      // Between turns (this handler never runs during one): the task is not running, and its
      // exit (stopped) tells the driver so.
      residents.get(message.taskId)?.stop();
      return;
    case 'runs':
      for (const request of message.requests) startResident(request);
      return;
    case 'run':
      return message.isResumable ? startResident(message) : run(message);
    default: {
      const never: never = message;
      throw new Error(`unknown message ${JSON.stringify(never)}`);
    }
  }
});
