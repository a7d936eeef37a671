// Compiles modules once: checked, instrumented (memory cap, fuel) and compiled, cached by
// (sha256 of the bytes, instrumentation settings), least recently used first out.
import { createHash } from 'node:crypto';
import { FailureReason } from '../../domain/index.js';
import { TaskStartError } from '../driver.js';
import { DecodeError } from './byte-reader.js';
import { checkModule, type ModuleCaps } from './check-module.js';
import { capPages, instrumentModule } from './instrument-module.js';
import { parseModule, type ParsedModule } from './parse-module.js';
import { resumableTransformer } from './resumable-transformer.js';

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
  /** Initial value of the fuel global; undefined when not metered. */
  fuelBudget?: bigint;
  memMiB: number;
}

export interface ModuleCache {
  /**
   * The compiled module for these bytes and limits. Rejects with `TaskStartError`
   * (INVALID_MODULE, FORBIDDEN_IMPORT, MEMORY_LIMIT). Concurrent calls share one compile.
   */
  prepare(options: { bytes: Uint8Array; memMiB: number; fuel?: bigint }): Promise<PreparedModule>;
  /**
   * The cached entry for bytes of this digest and these limits, without reading or hashing
   * anything (the launch fast path); undefined when it is not cached.
   */
  lookup(options: {
    digest: string;
    memMiB: number;
    fuel?: bigint;
  }): Promise<PreparedModule> | undefined;
  readonly size: number;
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
}): ModuleCache {
  const maxEntries = options.maxEntries ?? 256;
  const makeResumable =
    options.makeResumable ?? ((bytes: Uint8Array) => resumableTransformer.transform(bytes));
  const resumableWaitMs = options.resumableWaitMs ?? 10_000;
  const entries = new Map<string, Promise<PreparedModule>>();

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
        if (entries.has(key))
          entries.set(key, Promise.resolve({ ...base, module, isResumable: true }));
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
      timer = setTimeout(() => resolve('late'), resumableWaitMs);
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
    limits: { memMiB: number; fuel?: bigint },
  ): Promise<PreparedModule> {
    if (!WebAssembly.validate(bytes)) {
      throw new TaskStartError(FailureReason.INVALID_MODULE, describeInvalid(bytes));
    }
    let parsed;
    try {
      parsed = parseModule(bytes);
    } catch (error) {
      if (error instanceof DecodeError)
        throw new TaskStartError(FailureReason.INVALID_MODULE, error.message);
      throw error;
    }
    const problem = checkModule(parsed, options.caps);
    if (problem) throw new TaskStartError(problem.reason, problem.message);
    const instrument = (shouldExportOutOfFuel: boolean) =>
      instrumentModule(parsed, {
        memMiB: limits.memMiB,
        fuel: limits.fuel,
        maxTableElements: options.caps.maxTableElements,
        shouldExportOutOfFuel,
      });
    const rewritten = instrument(false);
    if (!rewritten.ok) throw new TaskStartError(rewritten.reason, rewritten.message);
    let final = rewritten.bytes;
    let isResumable = false;
    const key = keyOf(digest, limits);
    const resumable = canResume(parsed, limits) ? instrument(true) : undefined;
    if (resumable?.ok) {
      // Off the main thread (binaryen blocks while it runs), and awaited even while binaryen is
      // still loading: it loads in about a second, and a sleeper launched meanwhile would
      // otherwise hold a thread of its own for its whole life. Only a transform slower than
      // `resumableWaitMs` lets the launch go on with the ordinary module.
      const transformed = makeResumable(resumable.bytes);
      const bytes = await resumableWithin(transformed, () =>
        upgradeLater(key, transformed, {
          digest,
          key,
          fuelBudget: limits.fuel,
          memMiB: limits.memMiB,
        }),
      );
      if (bytes) {
        final = bytes;
        isResumable = true;
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
    return {
      module,
      digest,
      key,
      isResumable,
      fuelBudget: limits.fuel,
      memMiB: limits.memMiB,
    };
  }

  return {
    lookup({ digest, memMiB, fuel }) {
      return entries.get(keyOf(digest, { memMiB, fuel }));
    },
    prepare({ bytes, memMiB, fuel }) {
      const digest = createHash('sha256').update(bytes).digest('hex');
      const key = keyOf(digest, { memMiB, fuel });
      let entry = entries.get(key);
      if (entry) {
        entries.delete(key); // move to the most recent end
      } else {
        entry = compile(bytes, digest, { memMiB, fuel });
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
  };
}

/**
 * Worth making resumable: it sleeps (imports `poll_oneoff`), is metered (fuel slices bound how
 * long it holds a shared thread), exports its one memory, and leaves room under the cap for the
 * page the worker adds for Asyncify's unwind stack.
 */
function canResume(module: ParsedModule, limits: { memMiB: number; fuel?: bigint }): boolean {
  const memory = module.memories[0];
  return (
    limits.fuel !== undefined &&
    module.imports.some((i) => i.module === 'wasi_snapshot_preview1' && i.name === 'poll_oneoff') &&
    module.memories.length === 1 &&
    memory !== undefined &&
    memory.min + 1 <= Math.min(memory.max ?? Infinity, capPages(limits.memMiB)) &&
    module.exports.some((e) => e.name === 'memory')
  );
}

function keyOf(digest: string, limits: { memMiB: number; fuel?: bigint }): string {
  return `${digest}/${limits.memMiB}/${limits.fuel ?? '-'}`;
}

function describeInvalid(bytes: Uint8Array): string {
  try {
    new WebAssembly.Module(bytes);
  } catch (error) {
    return `not a valid Wasm module (${error instanceof Error ? error.message : String(error)})`;
  }
  return 'not a valid Wasm module';
}
