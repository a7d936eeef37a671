// The agent side of instrument-worker.ts: parse, check and rewrite run in one worker thread with
// a capped heap, so a large module neither blocks the agent's event loop nor grows its heap.
import { Worker } from 'node:worker_threads';
import type { FailureReason } from '../../domain/index.js';
import type { ModuleCaps } from './check-module.js';
import type { ImportedMemory } from './worker-messages.js';
import { resolveWorkerUrl, terminated, workerExecArgv } from './worker-pool.js';

export type { ImportedMemory };

/** Agent → instrument thread. */
export interface InstrumentRequest {
  id: number;
  bytes: Uint8Array;
  memMiB: number;
  isMetered: boolean;
  /** Handler mode: resumable without `poll_oneoff` (module-cache.ts, `ModuleLimits`). */
  isHandler?: boolean;
  caps: ModuleCaps;
}

/** Instrument thread → agent: the rewritten module (and its resumable variant), or a refusal. */
export type InstrumentReply =
  | {
      id: number;
      ok: true;
      bytes: Uint8Array;
      /** `bytes` imports its memory (its one memory, made an import): the limits to give it. */
      memory?: ImportedMemory;
      resumableBytes?: Uint8Array;
      /** The resumable variant imports its memory (handler mode): the limits to give it. */
      resumableMemory?: ImportedMemory;
    }
  | { id: number; ok: false; reason: FailureReason; message: string };

export interface InstrumentThread {
  /**
   * Validates, parses, checks and instruments `bytes` in the thread. A refusal is a reply, not
   * a rejection; rejects only when the thread died (for example past its heap cap), and the
   * next call starts a new thread.
   */
  instrument(request: Omit<InstrumentRequest, 'id'>): Promise<InstrumentReply>;
  close(): Promise<void>;
}

interface Pending {
  request: InstrumentRequest;
  resolve: (reply: InstrumentReply) => void;
  reject: (error: Error) => void;
}

/**
 * The rewriter's own structures are small (typed arrays for bytes, one record per function);
 * this cap bounds what a hostile module can make it hold, far under the agent's own heap.
 */
export const instrumentHeapMiB = 256;

export function createInstrumentThread(): InstrumentThread {
  let worker: Worker | undefined;
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let isClosed = false;

  function start(): Worker {
    if (worker) return worker;
    const thread = new Worker(resolveWorkerUrl(import.meta.url, 'instrument-worker'), {
      resourceLimits: {
        maxOldGenerationSizeMb: instrumentHeapMiB,
        maxYoungGenerationSizeMb: 32,
        stackSizeMb: 4,
      },
      stdout: false,
      stderr: false,
      execArgv: workerExecArgv(),
    });
    thread.on('message', (reply: InstrumentReply) => {
      const waiting = pending.get(reply.id);
      pending.delete(reply.id);
      if (pending.size === 0) thread.unref();
      waiting?.resolve(reply);
    });
    // The thread takes requests in order: the oldest pending one is the module that killed it
    // (a heap past the cap); the others are sent again to a new thread.
    const die = (error: Error): void => {
      if (worker !== thread) return;
      worker = undefined;
      const [first, ...rest] = [...pending.values()];
      pending.clear();
      first?.reject(error);
      if (isClosed || rest.length === 0) {
        for (const waiting of rest) waiting.reject(error);
        return;
      }
      const next = start();
      next.ref();
      for (const waiting of rest) {
        pending.set(waiting.request.id, waiting);
        next.postMessage(waiting.request);
      }
    };
    thread.on('error', die);
    thread.on('exit', (code) => die(new Error(`the instrument thread exited (${code})`)));
    thread.unref();
    worker = thread;
    return thread;
  }

  return {
    instrument(request) {
      const thread = start();
      const id = nextId++;
      thread.ref(); // a launch waiting for its module keeps the agent alive
      const message: InstrumentRequest = { ...request, id };
      return new Promise((resolve, reject) => {
        pending.set(id, { request: message, resolve, reject });
        thread.postMessage(message);
      });
    },
    async close() {
      isClosed = true;
      const thread = worker;
      worker = undefined;
      if (thread) await terminated(thread);
    },
  };
}
