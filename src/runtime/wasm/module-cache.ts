// Compiles modules once: checked and instrumented (memory cap, fuel counter) in a worker thread,
// compiled, and cached by (sha256 of the bytes, mem cap, metered or not), least recently used
// first out. The fuel budget is not in the key: each worker sets it after instantiation.
import { FailureReason } from '../../domain/index.js';
import { TaskStartError } from '../driver.js';
import type { ModuleCaps } from './check-module.js';
import {
  createInstrumentThread,
  type ImportedMemory,
  type InstrumentReply,
  type InstrumentRequest,
} from './instrument-thread.js';
import { resumableTransformer } from './resumable-transformer.js';

/** Added to `resumableWaitMs` while binaryen's helper is still loading (see `isCold`). */
const COLD_HELPER_WAIT_MS = 30_000;

/** A module ready to post to a worker. */
export interface PreparedModule {
  module: WebAssembly.Module;
  digest: string;
  /** Digest and instrumentation settings: names this compiled module across threads. */
  key: string;
  /**
   * Asyncified (resumable-module.ts): may share a worker with other such tasks, sleeping and
   * yielding at fuel-slice ends without holding the thread. Needs one spare page of memory.
   */
  isResumable: boolean;
  /**
   * `module` imports its memory (`memoryImport`): the ordinary module always (when it has one
   * memory), the resumable one in handler mode. The runtime gives each instance a memory of these
   * limits, zeroed (memory-pool.ts).
   */
  importedMemory?: ImportedMemory;
  /** Has the exported fuel counter (`__pacer_fuel`), which the worker sets to the budget. */
  isMetered: boolean;
  memMiB: number;
}

/** What a compiled module depends on besides its bytes. */
export interface ModuleLimits {
  memMiB: number;
  isMetered: boolean;
  /**
   * Handler mode (WAGI): made resumable even without `poll_oneoff`, so each request's instance
   * runs on the shared threads (a looping one yields at its slice ends) instead of a thread each.
   */
  isHandler?: boolean;
}

export interface ModuleCache {
  /**
   * The compiled module for these bytes and limits. Rejects with `TaskStartError`
   * (INVALID_MODULE, FORBIDDEN_IMPORT, MEMORY_LIMIT). Concurrent calls share one compile.
   */
  prepare(options: { bytes: Uint8Array } & ModuleLimits): Promise<PreparedModule>;
  /**
   * The cached entry for bytes of this digest and these limits, without reading or hashing
   * anything (the launch fast path); undefined when it is not cached.
   */
  lookup(options: { digest: string } & ModuleLimits): Promise<PreparedModule> | undefined;
  readonly size: number;
  /** Modules instrumented and compiled so far (cache misses), for tests and metrics. */
  readonly compiles: number;
  /** Stops the instrument thread. */
  close(): Promise<void>;
}

export function createModuleCache(options: {
  caps: ModuleCaps;
  maxEntries?: number;
  /** Asyncify (default: binaryen in a process of its own, resumable-transformer.ts). */
  makeResumable?: (bytes: Uint8Array) => Promise<Uint8Array>;
  /**
   * Longest a compile waits for the Asyncify transform (default 10 s) before it goes on with
   * the ordinary module and swaps the resumable one in when it arrives.
   */
  resumableWaitMs?: number;
  /** Parse, check and instrument (default: a worker thread of the cache's own). */
  instrument?: (request: Omit<InstrumentRequest, 'id'>) => Promise<InstrumentReply>;
}): ModuleCache {
  const maxEntries = options.maxEntries ?? 256;
  const makeResumable =
    options.makeResumable ?? ((bytes: Uint8Array) => resumableTransformer.transform(bytes));
  const resumableWaitMs = options.resumableWaitMs ?? 10_000;
  /**
   * Binaryen's helper starts when first needed and exits when idle (resumable-transformer.ts):
   * while it is still loading, a launch waits this much longer, or the sleepers launched in its
   * first seconds would each hold a thread of their own for life (measured: 100 sleepers on a
   * cold agent took 966 MiB instead of 255 MiB).
   */
  const isCold = () => options.makeResumable === undefined && !resumableTransformer.isReady();
  const entries = new Map<string, Promise<PreparedModule>>();
  // Started at the first miss, not here: a cache that only ever hits costs no thread.
  const thread = createInstrumentThread();
  const instrument = options.instrument ?? ((request) => thread.instrument(request));
  let compiles = 0;

  /**
   * Swaps the resumable module into the cache once its transform is done: the launches that did
   * not wait for it run in threads of their own, later ones share threads.
   */
  function upgradeLater(
    key: string,
    transformed: Promise<Uint8Array>,
    base: Omit<PreparedModule, 'module' | 'isResumable'>,
  ): void {
    transformed
      .then((bytes) => WebAssembly.compile(bytes))
      .then((module) => {
        if (entries.has(key)) {
          entries.set(key, Promise.resolve({ ...base, module, isResumable: true }));
        }
      })
      .catch(() => undefined); // not transformable: the ordinary module stays cached
  }

  /** The transformed bytes; undefined when it failed or is not done within `resumableWaitMs`. */
  async function resumableWithin(
    transformed: Promise<Uint8Array>,
    onLate: () => void,
  ): Promise<Uint8Array | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(
        () => resolve('late'),
        resumableWaitMs + (isCold() ? COLD_HELPER_WAIT_MS : 0),
      );
    });
    try {
      const outcome = await Promise.race([transformed, late]);
      if (outcome !== 'late') return outcome;
      onLate();
      return undefined;
    } catch {
      // Binaryen could not transform it: the module runs the ordinary way, a thread to itself.
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  async function compile(
    bytes: Uint8Array,
    digest: string,
    limits: ModuleLimits,
  ): Promise<PreparedModule> {
    compiles += 1;
    let reply: InstrumentReply;
    try {
      reply = await instrument({ bytes, caps: options.caps, ...limits });
    } catch (error) {
      // The thread died on this module: past its heap cap, the only way a module can kill it.
      throw new TaskStartError(
        FailureReason.INVALID_MODULE,
        `could not be instrumented: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    if (!reply.ok) throw new TaskStartError(reply.reason, reply.message);
    let final = reply.bytes;
    let isResumable = false;
    let importedMemory: ImportedMemory | undefined = reply.memory;
    const key = keyOf(digest, limits);
    if (reply.resumableBytes) {
      // Off the main thread (binaryen blocks while it runs), and awaited even while binaryen is
      // still loading: it loads in about a second, and a sleeper launched meanwhile would
      // otherwise hold a thread of its own for its whole life. Only a transform slower than
      // `resumableWaitMs` lets the launch go on with the ordinary module.
      const transformed = makeResumable(reply.resumableBytes);
      const resumableMemory = reply.resumableMemory;
      const bytes = await resumableWithin(transformed, () =>
        upgradeLater(key, transformed, { digest, key, importedMemory: resumableMemory, ...limits }),
      );
      if (bytes) {
        final = bytes;
        isResumable = true;
        importedMemory = resumableMemory;
      }
    }
    let module: WebAssembly.Module;
    try {
      module = await WebAssembly.compile(final);
    } catch (error) {
      throw new TaskStartError(FailureReason.INVALID_MODULE, `does not compile: ${String(error)}`, {
        cause: error,
      });
    }
    return { module, digest, key, isResumable, importedMemory, ...limits };
  }

  return {
    lookup({ digest, memMiB, isMetered, isHandler }) {
      return entries.get(keyOf(digest, { memMiB, isMetered, isHandler }));
    },
    async prepare({ bytes, memMiB, isMetered, isHandler }) {
      // Web Crypto hashes on libuv's thread pool: a 64 MiB module does not stall the loop.
      const digest = Buffer.from(await crypto.subtle.digest('SHA-256', bytes)).toString('hex');
      const key = keyOf(digest, { memMiB, isMetered, isHandler });
      let entry = entries.get(key);
      if (entry) {
        entries.delete(key); // move to the most recent end
      } else {
        entry = compile(bytes, digest, { memMiB, isMetered, isHandler });
        // Refusals are not cached: they are cheap to find again and must not evict good modules.
        entry.catch(() => entries.delete(key));
      }
      entries.set(key, entry);
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest === undefined) break;
        entries.delete(oldest);
      }
      return entry;
    },
    get size() {
      return entries.size;
    },
    get compiles() {
      return compiles;
    },
    async close() {
      await thread.close();
    },
  };
}

function keyOf(digest: string, limits: ModuleLimits): string {
  return `${digest}/${limits.memMiB}/${limits.isMetered ? 'metered' : '-'}${limits.isHandler ? '/handler' : ''}`;
}
