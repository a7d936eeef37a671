// A resumable task inside a shared worker (worker thread side): runs until it sleeps or its fuel
// slice ends, unwinds (Asyncify), and is rewound later, so many tasks share one thread.
import { fuelCharger } from './fuel-counter.js';
import { memoryImport, startExport } from './instrument-module.js';
import type { HostPool } from './host-pool.js';
import type { ImportRelay, ImportTable } from './import-relay.js';
import type { MemoryPool } from './memory-pool.js';
import { StopRequested, createWasiHost, type WasiHostOptions } from './wasi-host.js';
import { createNetMirror } from './wasi/net-mirror.js';
import {
  AsyncifyExports,
  type NetEvent,
  type NetOp,
  InstrumentExports,
  publishFuelLeft,
  yieldImport,
  type RunOutcome,
  type RunRequest,
  type WorkerEvent,
} from './worker-messages.js';
import { setLongTimeout, type LongTimeout } from '../long-timeout.js';
import type { SliceScheduler } from './slice-scheduler.js';

/** A resident task as its worker sees it. */
export interface ResidentTask {
  /**
   * Ends the task now (kill, timeout; called between turns, so its code is not running) and
   * posts its exit with outcome `stopped`, unless it had already ended. Idempotent.
   */
  stop(): void;
  /** Socket traffic for the task (between turns): resumes it when it waits for sockets. */
  deliver(events: NetEvent[]): void;
}

const pageBytes = 65536;
const unwinding = 1;
const rewinding = 2;

/** The names of the yield import module (what `ImportRelay.importsFor` needs of it). */
const yieldShape = { [yieldImport.name]: () => undefined };

/** Thrown by the yield import when the whole budget is spent (the fuel global stays below 0). */
class FuelExhausted extends Error {}

/**
 * Instantiates and starts the task; it runs in turns (`setTimeout` after a sleep, `setImmediate`
 * after a fuel slice) and posts `started`, `log` and finally `exit` like an ordinary run.
 */
export function startResidentTask(options: {
  request: RunRequest;
  module: WebAssembly.Module;
  post: (event: WorkerEvent) => void;
  /** Posts the task's socket ops (socket mode). */
  postNet?: (ops: NetOp[]) => void;
  outcomeOf: (error: unknown) => RunOutcome;
  /** The thread's scheduler of slices: who runs next, by `cpus` (slice-scheduler.ts). */
  scheduler: SliceScheduler;
  /** Memories for modules that import theirs (`request.importedMemory`, handler mode). */
  memories?: MemoryPool;
  /**
   * The thread's import relays (import-relay.ts), used with an imported memory: the instance then
   * references none of this request's host, which dies young.
   */
  relay?: ImportRelay;
  /**
   * The thread's reusable WASI hosts (host-pool.ts), used with an imported memory (handler
   * mode, no sockets): the request's host is taken from it and given back once it ended.
   */
  hosts?: HostPool;
  /** The WASI functions the module imports (`WasiHostOptions.importNames`). */
  importNames?: readonly string[];
}): ResidentTask {
  const { request, post, scheduler } = options;
  const { taskId } = request;
  scheduler.register(taskId, {
    cpus: request.cpus ?? 1,
    isHardCapped: request.cpuLimit === 'hard',
  });
  const slice = request.fuelSlice ?? 0n;
  /** Index 0 set by the driver to stop the task: read at every slice end and turn start. */
  const control = new Int32Array(request.control);
  const isStopRequested = (): boolean => Atomics.load(control, 0) !== 0;
  let exports: Record<string, unknown> = {};
  let fuel: WebAssembly.Global | undefined;
  /** Fuel of the budget not yet handed to the guest's counter. */
  let reserve = 0n;
  let dataPtr = 0;
  let isStopped = false;
  let timer: LongTimeout | undefined;
  let resumeAfterMs: number | undefined;
  /** Suspended until `resumeAfterMs` passed (undefined: no limit) or socket traffic came. */
  let isNetWait = false;
  /** Suspended by a wait (not at a slice's end): `turn` schedules the resume. */
  let isWaiting = false;
  const call = (name: string, ...args: number[]): number =>
    (exports[name] as (...a: number[]) => number)(...args);

  const suspend = (ms: number | undefined): void => {
    resumeAfterMs = ms;
    isWaiting = false;
    // The unwind page is the guest's own memory: it may have written over the header since the
    // last unwind (which only harms itself), so the header is set afresh each time.
    const { memory } = exports;
    if (memory instanceof WebAssembly.Memory) {
      new Int32Array(memory.buffer, dataPtr, 2).set([dataPtr + 8, dataPtr + pageBytes]);
    }
    call(AsyncifyExports.startUnwind, dataPtr);
  };
  const net =
    request.listeners !== undefined && request.listeners > 0 && options.postNet
      ? createNetMirror({
          listenerCount: request.listeners,
          post: options.postNet,
          onQueued: () => setImmediate(() => net?.flush()),
        })
      : undefined;
  const hosts = request.importedMemory && !net ? options.hosts : undefined;
  const hostOptions: WasiHostOptions = {
    importNames: options.importNames,
    net,
    stdin: request.stdin,
    captureStdoutBytes: request.captureStdoutBytes,
    args: request.args,
    env: request.env,
    sandboxDir: request.sandboxDir,
    sandboxFiles: request.sandboxFiles,
    maxLogLineBytes: request.maxLogLineBytes,
    diskQuotaBytes: request.diskQuotaBytes,
    control,
    onLog: (stream, lines) => post({ type: 'log', taskId, stream, lines }),
    chargeFuel: fuelCharger(
      () => fuel,
      () => fuel && publishFuelLeft(request.control, (fuel.value as bigint) + reserve),
    ),
    waiter: {
      isSuspending: true,
      resume() {
        if (call(AsyncifyExports.state) !== rewinding) return false;
        call(AsyncifyExports.stopRewind);
        return true;
      },
      wait(ms, isNet) {
        suspend(ms === undefined ? undefined : Math.max(0, ms));
        isWaiting = true;
        isNetWait = isNet;
        return false;
      },
    },
  };
  const pooledHost = hosts?.take(hostOptions);
  const host = pooledHost ?? createWasiHost(hostOptions);
  const onYield = (): void => {
    if (call(AsyncifyExports.state) === rewinding) {
      call(AsyncifyExports.stopRewind);
      return;
    }
    // A stop set through shared memory ends the task at its slice's end, without waiting for the
    // driver's message to reach this thread behind the other tasks' turns.
    if (isStopRequested()) throw new StopRequested();
    // The out-of-fuel helper yields until the counter is back at 0 or above: a charge larger
    // than what is left (a bulk instruction, a host call) ends the task now, not a slice later.
    if (!fuel || reserve <= 0n || (fuel.value as bigint) + reserve < 0n) {
      throw new FuelExhausted('fuel exhausted');
    }
    const take = reserve < slice ? reserve : slice;
    reserve -= take;
    fuel.value = (fuel.value as bigint) + take;
    publishFuelLeft(request.control, (fuel.value as bigint) + reserve);
    suspend(undefined); // end of a slice: let the other tasks of this thread run
  };

  const entries: (() => void)[] = [];
  let isRewinding = false;

  /**
   * Handler mode: the memory the instance imports, taken from the thread's pool, one page longer
   * than the module declares (the unwind page, which a module's own memory gets by a grow).
   */
  const given = request.importedMemory;
  const givenPages = given ? given.minPages + 1 : 0;
  const givenMemory = given ? options.memories?.take(given, givenPages) : undefined;

  const end = (outcome: RunOutcome): void => {
    if (isStopped) return;
    isStopped = true;
    host.close();
    net?.flush();
    scheduler.forget(taskId);
    // The instance never runs again (`turn` and `deliver` stop at `isStopped`); only an instance
    // that ended by itself gives its memory back, to be zeroed for the next one.
    const isClean = outcome.kind === 'returned' || outcome.kind === 'exit';
    if (given && givenMemory && isClean) options.memories?.give(givenMemory, given, givenPages);
    const grow = exports[InstrumentExports.growRefused];
    post({
      type: 'exit',
      taskId,
      outcome,
      fuelLeft: fuel ? (fuel.value as bigint) + reserve : undefined,
      isGrowRefused: grow instanceof WebAssembly.Global ? grow.value !== 0 : undefined,
      stdout: request.captureStdoutBytes === undefined ? undefined : host.stdout(),
    });
    // Its stdout taken, the host is blanked for the next request (it never runs this one again).
    if (pooledHost) hosts?.give(pooledHost);
  };

  /** Suspended in a wait (sleep or sockets), not runnable until its timer or traffic. */
  let isIdle = false;
  /** The import object the instance links to (`table` itself, or relays to it). */
  let table: ImportTable = {};
  const relay = request.importedMemory ? options.relay : undefined;
  /** Runs the current entry until it returns, unwinds, or fails; host calls reach `table`. */
  const turn = (): void => {
    if (relay) relay.run(table, runTurn);
    else runTurn();
  };
  const runTurn = (): void => {
    timer = undefined;
    isIdle = false;
    isNetWait = false;
    if (isStopped) return;
    if (isStopRequested()) return end({ kind: 'stopped' });
    try {
      while (entries.length > 0) {
        if (isRewinding) call(AsyncifyExports.startRewind, dataPtr);
        isRewinding = false;
        (entries[0] as () => void)();
        if (call(AsyncifyExports.state) === unwinding) {
          call(AsyncifyExports.stopUnwind);
          isRewinding = true;
          const ms = resumeAfterMs;
          net?.flush();
          if (isWaiting && ms === undefined) {
            // Waits for socket traffic only: no timer; `deliver` resumes it.
            timer = undefined;
            isIdle = true;
            return;
          }
          isIdle = isWaiting;
          // The next slice waits for the scheduler's turn; a sleep first for its time (a guest
          // may sleep longer than one Node timer keeps, long-timeout.ts).
          if (ms === undefined) scheduler.ready(taskId, turn);
          else
            timer = setLongTimeout(() => {
              timer = undefined;
              isIdle = false; // runnable: traffic arriving now must not make it ready twice
              scheduler.ready(taskId, turn);
            }, ms);
          return;
        }
        entries.shift();
      }
      end({ kind: 'returned' });
    } catch (error) {
      end(
        error instanceof FuelExhausted
          ? { kind: 'trap', message: 'out of fuel' }
          : options.outcomeOf(error),
      );
    }
  };

  let instance: WebAssembly.Instance;
  table = {
    wasi_snapshot_preview1: host.imports,
    [yieldImport.module]: { [yieldImport.name]: onYield },
  };
  // The relays are those of the names: a constant for the yield import, and the pooled host's
  // own import object, so the relay finds both in its cache (import-relay.ts).
  const imports: Record<string, Record<string, unknown>> = relay
    ? relay.importsFor({ ...table, [yieldImport.module]: yieldShape })
    : { ...table };
  if (given) {
    // A copy: the relays' object is shared by every request of the thread.
    imports[memoryImport.module] = {
      ...imports[memoryImport.module],
      [memoryImport.name]:
        givenMemory ?? new WebAssembly.Memory({ initial: givenPages, maximum: given.maxPages }),
    };
  }
  try {
    const link = () => new WebAssembly.Instance(options.module, imports as WebAssembly.Imports);
    // The start function was moved out of instantiation (`__pacer_start`), so nothing should
    // call the host here; relayed anyway, so that no call could reach another request's host.
    instance = relay ? relay.run(table, link) : link();
  } catch (error) {
    isStopped = true;
    host.close();
    if (pooledHost) hosts?.give(pooledHost);
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof WebAssembly.LinkError) {
      post({ type: 'exit', taskId, outcome: { kind: 'link-error', message } });
    } else {
      post({ type: 'started', taskId });
      post({ type: 'exit', taskId, outcome: options.outcomeOf(error) });
    }
    return { stop: () => undefined, deliver: () => undefined };
  }
  exports = instance.exports;
  const memory = exports.memory;
  if (!(memory instanceof WebAssembly.Memory)) throw new Error('a resumable module exports memory');
  host.setMemory(memory);
  // Asyncify's unwind stack: one page past the guest's initial memory, counted against its cap
  // (module-cache.ts checked there is room). Guest allocators grow above it. An imported memory
  // comes with that page already (`givenPages`).
  dataPtr = given ? given.minPages * pageBytes : memory.grow(1) * pageBytes;
  const fuelGlobal = exports[InstrumentExports.fuel];
  if (fuelGlobal instanceof WebAssembly.Global) {
    // The compiled counter holds 0: the budget is this task's, handed out one slice at a time.
    fuel = fuelGlobal;
    const budget = request.fuelBudget ?? 0n;
    const first = slice > 0n && budget > slice ? slice : budget;
    reserve = budget - first;
    fuel.value = first;
  }
  const startFunction = exports[startExport];
  if (typeof startFunction === 'function') entries.push(startFunction as () => void);
  entries.push(exports._start as () => void);
  // A handler request (its stdout captured) is answered from its exit alone: no `started`,
  // one event fewer to post and copy per request.
  if (request.captureStdoutBytes === undefined) post({ type: 'started', taskId });
  turn();
  return {
    deliver(events) {
      if (!net || isStopped) return;
      const isReady = net.apply(events);
      if (!isReady || !isIdle || !isNetWait) return;
      // Waiting for sockets (perhaps with a timeout too): runnable now, the poll is made again
      // in its next turn, which the thread's scheduler gives it.
      timer?.cancel();
      timer = undefined;
      isIdle = false;
      scheduler.ready(taskId, turn);
    },
    stop() {
      if (isStopped) return;
      timer?.cancel();
      end({ kind: 'stopped' });
    },
  };
}
