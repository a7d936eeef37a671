// The agent side of resumable-worker.ts: Asyncify transforms sent to one child process, shared
// by every driver of the process. It starts when a module first needs it (or early, with
// `warm()`, so no launch waits long for binaryen to load) and exits after IDLE_EXIT_MS without
// work: binaryen costs ~100 MiB resident, and an idle edge agent should not keep it (issue 14).
// Transformed modules are cached by digest (module-cache.ts), so it is needed again only for a
// module the agent has not run since it started.
//
// A process, not a thread: V8 flags are process-wide, and the driver turns the baseline tier
// off (--no-liftoff) for tasks' sake. Under that flag binaryen's 10 MB of Wasm is compiled by
// the optimizing tier alone: measured here, ready after 2.3 s alone and 9 s with four agents
// starting on 2 cores, against 0.5 s and 1.6 s in a process of its own with the baseline tier.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { resolveWorkerUrl } from './worker-pool.js';

/** Driver → transform process. */
export interface TransformRequest {
  id: number;
  bytes: Uint8Array;
}

/** Transform process → driver. */
export type TransformReply =
  | { type: 'ready' }
  | { type: 'done'; id: number; bytes: Uint8Array }
  | { type: 'failed'; id: number; message: string };

export interface ResumableTransformer {
  /** Starts the process (and binaryen's load) if it is not running; idempotent, returns at once. */
  warm(): void;
  /** True once binaryen has loaded: a transform now takes milliseconds, not seconds. */
  isReady(): boolean;
  /** Starts the process if needed; resolves once binaryen has loaded, rejects if it dies first. */
  ready(): Promise<void>;
  /**
   * The module made resumable (`makeResumable`); waits for binaryen's load when it is not done.
   * Rejects when binaryen cannot transform it or the process died; the caller then runs the
   * module the ordinary way.
   */
  transform(bytes: Uint8Array): Promise<Uint8Array>;
}

/** A helper without work for this long exits; the next transform starts another. */
export const IDLE_EXIT_MS = 30_000;

interface Pending {
  resolve: (bytes: Uint8Array) => void;
  reject: (error: Error) => void;
}

interface State {
  child: ChildProcess;
  pending: Map<number, Pending>;
  isReady: boolean;
  /** Callers of `ready()`: resolved when binaryen has loaded, rejected if the process dies first. */
  onReady: { resolve: () => void; reject: (error: Error) => void }[];
  /** Callers waiting for `ready()`: the process is held (ref'd) while there are any. */
  readyWaiters: number;
  /** Ends the idle process (armed whenever it becomes idle). */
  idleTimer?: NodeJS.Timeout;
}

/**
 * Process-wide on purpose: binaryen costs CPU and tens of MiB to load, so one loaded copy serves
 * every driver. The child is unref'd while idle (it never keeps the agent alive), exits when
 * the agent does (its IPC channel closes), and a crash rejects what is pending; the next call
 * starts a new one.
 */
let current: State | undefined;
let nextId = 1;

function hold(state: State): void {
  clearTimeout(state.idleTimer);
  state.child.ref();
  state.child.channel?.ref();
}

function releaseIfIdle(state: State): void {
  if (state.pending.size > 0 || state.readyWaiters > 0) return;
  state.child.unref();
  state.child.channel?.unref();
  clearTimeout(state.idleTimer);
  state.idleTimer = setTimeout(() => {
    if (state.pending.size > 0 || state.readyWaiters > 0) return;
    // Forgotten first, so a transform asked for from now on starts a new process.
    if (current === state) current = undefined;
    state.child.kill();
  }, idleExitMs);
  state.idleTimer.unref();
}

let idleExitMs = IDLE_EXIT_MS;

/** Tests: how long an idle helper lives (default IDLE_EXIT_MS). */
export function setResumableIdleExitMs(ms: number): void {
  idleExitMs = ms;
}

/** Tests: the helper's pid, when one runs. */
export function resumableHelperPid(): number | undefined {
  return current?.child.pid;
}

function start(): State {
  if (current) return current;
  const script = fileURLToPath(resolveWorkerUrl(import.meta.url, 'resumable-worker'));
  // Not the agent's flags (--no-liftoff, loader hooks under tests): Liftoff only. Binaryen's
  // tier-up to TurboFan took more CPU than it saved, partly blocking its main thread: measured
  // for a first small transform, 1.3 s of CPU with the default tiers against 0.4 s.
  const child = fork(script, [], {
    execArgv: ['--liftoff-only'],
    serialization: 'advanced', // Uint8Array both ways, as structured clone does for threads
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const state: State = {
    child,
    pending: new Map(),
    isReady: false,
    onReady: [],
    readyWaiters: 0,
  };
  child.on('message', (reply: TransformReply) => {
    if (reply.type === 'ready') {
      state.isReady = true;
      for (const waiter of state.onReady.splice(0)) waiter.resolve();
      return;
    }
    const waiting = state.pending.get(reply.id);
    state.pending.delete(reply.id);
    releaseIfIdle(state);
    if (reply.type === 'done') waiting?.resolve(reply.bytes);
    else waiting?.reject(new Error(reply.message));
  });
  const die = (error: Error): void => {
    clearTimeout(state.idleTimer);
    if (current === state) current = undefined;
    for (const waiting of state.pending.values()) waiting.reject(error);
    state.pending.clear();
    // A process that dies before binaryen loaded never says ready: its waiters learn why, instead
    // of waiting on a promise nothing can settle (a process with no other work then just exits).
    for (const waiter of state.onReady.splice(0)) waiter.reject(error);
  };
  child.on('error', die);
  child.on('exit', (code, signal) =>
    die(new Error(`the Asyncify process exited (${signal ?? code ?? 'unknown'})`)),
  );
  current = state;
  releaseIfIdle(state);
  return state;
}

export const resumableTransformer: ResumableTransformer = {
  warm() {
    try {
      start();
    } catch {
      // No process (fork failed): modules run the ordinary way; the next transform tries again.
    }
  },
  isReady: () => current?.isReady ?? false,
  ready() {
    const state = start();
    if (state.isReady) return Promise.resolve();
    // Held until binaryen has loaded, so a caller waiting for it keeps the agent alive.
    state.readyWaiters += 1;
    hold(state);
    return new Promise<void>((resolve, reject) => {
      const settle = () => {
        state.readyWaiters -= 1;
        releaseIfIdle(state);
      };
      state.onReady.push({
        resolve: () => {
          settle();
          resolve();
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      });
    });
  },
  transform(bytes) {
    let state: State;
    try {
      state = start();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const id = nextId++;
    // Held while a transform is pending: a launch awaiting it must keep the agent alive.
    hold(state);
    return new Promise<Uint8Array>((resolve, reject) => {
      state.pending.set(id, { resolve, reject });
      state.child.send({ id, bytes } satisfies TransformRequest, (error) => {
        if (!error) return;
        state.pending.delete(id);
        releaseIfIdle(state);
        reject(error);
      });
    });
  },
};
