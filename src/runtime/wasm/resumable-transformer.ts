// The main-thread side of resumable-worker.ts: Asyncify transforms sent to one background thread,
// shared by every driver of the process, started early so no launch waits for binaryen to load.
import { Worker } from 'node:worker_threads';
import { resolveWorkerUrl, workerExecArgv } from './worker-pool.js';

/** Driver → transform thread. */
export interface TransformRequest {
  id: number;
  bytes: Uint8Array;
}

/** Transform thread → driver. */
export type TransformReply =
  | { type: 'ready' }
  | { type: 'done'; id: number; bytes: Uint8Array }
  | { type: 'failed'; id: number; message: string };

export interface ResumableTransformer {
  /** Starts the thread (and binaryen's load) if it is not running; idempotent, returns at once. */
  warm(): void;
  /** True once binaryen has loaded: a transform now takes milliseconds, not seconds. */
  isReady(): boolean;
  /** Starts the thread if needed and resolves once binaryen has loaded. */
  ready(): Promise<void>;
  /**
   * The module made resumable (`makeResumable`). Rejects when binaryen cannot transform it or
   * the thread died; the caller then runs the module the ordinary way.
   */
  transform(bytes: Uint8Array): Promise<Uint8Array>;
}

interface Pending {
  resolve: (bytes: Uint8Array) => void;
  reject: (error: Error) => void;
}

/**
 * Process-wide on purpose: binaryen costs seconds of CPU and tens of MiB to load, and V8 flags
 * (`--no-liftoff`) are process-wide anyway, so one loaded copy serves every driver. The thread
 * is unref'd while idle; a crash rejects what is pending and the next call starts a new one.
 */
let current:
  | { worker: Worker; pending: Map<number, Pending>; isReady: boolean; onReady: (() => void)[] }
  | undefined;
let nextId = 1;

function start(): NonNullable<typeof current> {
  if (current) return current;
  const worker = new Worker(resolveWorkerUrl(import.meta.url, 'resumable-worker'), {
    stdout: false,
    stderr: false,
    execArgv: workerExecArgv(),
  });
  const state = {
    worker,
    pending: new Map<number, Pending>(),
    isReady: false,
    onReady: [] as (() => void)[],
  };
  worker.on('message', (reply: TransformReply) => {
    if (reply.type === 'ready') {
      state.isReady = true;
      for (const resolve of state.onReady.splice(0)) resolve();
      return;
    }
    const waiting = state.pending.get(reply.id);
    state.pending.delete(reply.id);
    if (state.pending.size === 0) worker.unref();
    if (reply.type === 'done') waiting?.resolve(reply.bytes);
    else waiting?.reject(new Error(reply.message));
  });
  const die = (error: Error): void => {
    if (current === state) current = undefined;
    for (const waiting of state.pending.values()) waiting.reject(error);
    state.pending.clear();
  };
  worker.on('error', die);
  worker.on('exit', (code) => die(new Error(`the Asyncify thread exited (${code})`)));
  worker.unref();
  current = state;
  return state;
}

export const resumableTransformer: ResumableTransformer = {
  warm() {
    start();
  },
  isReady: () => current?.isReady ?? false,
  ready() {
    const state = start();
    if (state.isReady) return Promise.resolve();
    // Held until binaryen has loaded, so a caller waiting for it keeps the process alive.
    state.worker.ref();
    return new Promise<void>((resolve) =>
      state.onReady.push(() => {
        if (state.pending.size === 0) state.worker.unref();
        resolve();
      }),
    );
  },
  transform(bytes) {
    const state = start();
    const id = nextId++;
    // Held while a transform is pending: a launch awaiting it must keep the process alive.
    state.worker.ref();
    return new Promise<Uint8Array>((resolve, reject) => {
      state.pending.set(id, { resolve, reject });
      state.worker.postMessage({ id, bytes } satisfies TransformRequest);
    });
  },
};
