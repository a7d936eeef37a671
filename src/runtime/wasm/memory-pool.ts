// Zeroed linear memories for handler-mode instances (one fresh instance per request), kept per
// worker thread. Allocating a memory costs the engine an address-space reservation and its GC a
// later unmapping (tens of milliseconds, in pauses, at thousands of requests per second); a
// memory given back zeroed is, to the next instance, indistinguishable from a new one: the
// instance's data segments are written into it at instantiation, as into a fresh one.
import type { ImportedMemory } from './worker-messages.js';

const pageBytes = 65536;

export interface MemoryPool {
  /** A zeroed memory of `limits` that is `pages` long (a kept one, or a new one). */
  take(limits: ImportedMemory, pages: number): WebAssembly.Memory;
  /**
   * Gives back the memory of an instance that will never run again. Kept (zeroed now) only when
   * it is still `pages` long (the guest did not grow it) and the pool has room; otherwise left
   * to the GC.
   */
  give(memory: WebAssembly.Memory, limits: ImportedMemory, pages: number): void;
  /** Memories kept. */
  readonly size: number;
}

export function createMemoryPool(options: {
  /** Memories kept per shape (limits and length); default 32. */
  maxPerShape?: number;
  /** Bytes kept over all shapes; default 64 MiB. */
  maxBytes?: number;
}): MemoryPool {
  const maxPerShape = options.maxPerShape ?? 32;
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  const kept = new Map<string, WebAssembly.Memory[]>();
  let keptBytes = 0;
  let count = 0;
  const shapeOf = (limits: ImportedMemory, pages: number): string =>
    `${limits.minPages}/${limits.maxPages}/${pages}`;
  return {
    take(limits, pages) {
      const memory = kept.get(shapeOf(limits, pages))?.pop();
      if (memory) {
        keptBytes -= pages * pageBytes;
        count--;
        return memory;
      }
      return new WebAssembly.Memory({ initial: pages, maximum: limits.maxPages });
    },
    give(memory, limits, pages) {
      const bytes = pages * pageBytes;
      if (memory.buffer.byteLength !== bytes || keptBytes + bytes > maxBytes) return;
      const shape = shapeOf(limits, pages);
      let list = kept.get(shape);
      if (!list) kept.set(shape, (list = []));
      if (list.length >= maxPerShape) return;
      new Uint8Array(memory.buffer).fill(0);
      list.push(memory);
      keptBytes += bytes;
      count++;
    },
    get size() {
      return count;
    },
  };
}
