// A resumable task inside a shared worker (worker thread side): runs until it sleeps or its fuel
// slice ends, unwinds (Asyncify), and is rewound later, so many tasks share one thread.
import { startExport } from './instrument-module.js';
import { createWasiHost } from './wasi-host.js';
import {
  AsyncifyExports,
  InstrumentExports,
  yieldImport,
  type RunOutcome,
  type RunRequest,
  type WorkerEvent,
} from './worker-messages.js';

/** A resident task as its worker sees it. */
export interface ResidentTask {
  /** Drops the task at once (kill, timeout): no event follows. */
  stop(): void;
}

const pageBytes = 65536;
const unwinding = 1;
const rewinding = 2;

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
  outcomeOf: (error: unknown) => RunOutcome;
}): ResidentTask {
  const { request, post } = options;
  const { taskId } = request;
  const slice = request.fuelSlice ?? 0n;
  let exports: Record<string, unknown> = {};
  let fuel: WebAssembly.Global | undefined;
  /** Fuel of the budget not yet handed to the guest's counter. */
  let reserve = 0n;
  let dataPtr = 0;
  let isStopped = false;
  let timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  let resumeAfterMs: number | undefined;
  const call = (name: string, ...args: number[]): number =>
    (exports[name] as (...a: number[]) => number)(...args);

  const suspend = (ms: number | undefined): void => {
    resumeAfterMs = ms;
    call(AsyncifyExports.startUnwind, dataPtr);
  };
  const host = createWasiHost({
    args: request.args,
    env: request.env,
    sandboxDir: request.sandboxDir,
    maxLogLineBytes: request.maxLogLineBytes,
    diskQuotaBytes: request.diskQuotaBytes,
    control: new Int32Array(request.control),
    onLog: (stream, lines) => post({ type: 'log', taskId, stream, lines }),
    sleep(ms) {
      if (call(AsyncifyExports.state) === rewinding) {
        call(AsyncifyExports.stopRewind);
        return true;
      }
      suspend(Math.max(0, ms));
      return false;
    },
  });
  const onYield = (): void => {
    if (call(AsyncifyExports.state) === rewinding) {
      call(AsyncifyExports.stopRewind);
      return;
    }
    if (!fuel || reserve <= 0n) throw new FuelExhausted('fuel exhausted');
    const take = reserve < slice ? reserve : slice;
    reserve -= take;
    fuel.value = (fuel.value as bigint) + take;
    suspend(undefined); // end of a slice: let the other tasks of this thread run
  };

  const entries: (() => void)[] = [];
  let isRewinding = false;

  const end = (outcome: RunOutcome): void => {
    host.close();
    if (isStopped) return;
    isStopped = true;
    const grow = exports[InstrumentExports.growRefused];
    post({
      type: 'exit',
      taskId,
      outcome,
      fuelLeft: fuel ? (fuel.value as bigint) + reserve : undefined,
      isGrowRefused: grow instanceof WebAssembly.Global ? grow.value !== 0 : undefined,
    });
  };

  /** Runs the current entry until it returns, unwinds, or fails. */
  const turn = (): void => {
    timer = undefined;
    if (isStopped) return;
    try {
      while (entries.length > 0) {
        if (isRewinding) call(AsyncifyExports.startRewind, dataPtr);
        isRewinding = false;
        (entries[0] as () => void)();
        if (call(AsyncifyExports.state) === unwinding) {
          call(AsyncifyExports.stopUnwind);
          isRewinding = true;
          const ms = resumeAfterMs;
          timer = ms === undefined ? setImmediate(turn) : setTimeout(turn, ms);
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
  try {
    instance = new WebAssembly.Instance(options.module, {
      wasi_snapshot_preview1: host.imports,
      [yieldImport.module]: { [yieldImport.name]: onYield },
    });
  } catch (error) {
    isStopped = true;
    host.close();
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof WebAssembly.LinkError) {
      post({ type: 'exit', taskId, outcome: { kind: 'link-error', message } });
    } else {
      post({ type: 'started', taskId });
      post({ type: 'exit', taskId, outcome: options.outcomeOf(error) });
    }
    return { stop: () => undefined };
  }
  exports = instance.exports;
  const memory = exports.memory;
  if (!(memory instanceof WebAssembly.Memory)) throw new Error('a resumable module exports memory');
  host.setMemory(memory);
  // Asyncify's unwind stack: one page past the guest's initial memory, counted against its cap
  // (module-cache.ts checked there is room). Guest allocators grow above it.
  dataPtr = memory.grow(1) * pageBytes;
  new Int32Array(memory.buffer, dataPtr, 2).set([dataPtr + 8, dataPtr + pageBytes]);
  const fuelGlobal = exports[InstrumentExports.fuel];
  if (fuelGlobal instanceof WebAssembly.Global) {
    fuel = fuelGlobal;
    const budget = fuel.value as bigint;
    if (slice > 0n && budget > slice) {
      reserve = budget - slice;
      fuel.value = slice;
    }
  }
  const startFunction = exports[startExport];
  if (typeof startFunction === 'function') entries.push(startFunction as () => void);
  entries.push(exports._start as () => void);
  post({ type: 'started', taskId });
  turn();
  return {
    stop() {
      if (isStopped) return;
      isStopped = true;
      if (timer) {
        clearTimeout(timer as NodeJS.Timeout);
        clearImmediate(timer as NodeJS.Immediate);
      }
      host.close();
    },
  };
}
