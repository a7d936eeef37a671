// The module cache's resumable path: a sleeper's launch waits for the Asyncify transform, and
// goes on with the ordinary module only when the transform is slower than `resumableWaitMs`.
import { describe, expect, it } from 'vitest';
import wabtInit from 'wabt';
import { defaultModuleCaps } from './check-module.js';
import { createModuleCache } from './module-cache.js';

const wabt = await wabtInit();

/** A sleeper (imports poll_oneoff, exports its memory, room under the cap): worth resuming. */
const sleeper = (() => {
  const module = wabt.parseWat(
    'sleeper.wat',
    `(module
      (import "wasi_snapshot_preview1" "poll_oneoff" (func (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "_start")))`,
  );
  const { buffer } = module.toBinary({});
  module.destroy();
  return buffer;
})();

const limits = { memMiB: 1, fuel: 1_000_000n };

/** A transform that answers after `delayMs` with the bytes it was given (a valid module). */
function delayedTransform(delayMs: number) {
  const calls: number[] = [];
  const makeResumable = async (bytes: Uint8Array) => {
    calls.push(bytes.length);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    return bytes;
  };
  return { calls, makeResumable };
}

describe('module cache, resumable modules', () => {
  it('waits for a transform that comes within resumableWaitMs and caches the resumable module', async () => {
    const transform = delayedTransform(50);
    const cache = createModuleCache({
      caps: defaultModuleCaps,
      makeResumable: transform.makeResumable,
      resumableWaitMs: 5_000,
    });
    const [a, b] = await Promise.all([
      cache.prepare({ bytes: sleeper, ...limits }),
      cache.prepare({ bytes: sleeper, ...limits }),
    ]);
    expect(a.isResumable).toBe(true);
    expect(b).toBe(a); // concurrent launches share one transform and one compile
    expect(transform.calls).toHaveLength(1);
  });

  it('goes on with the ordinary module when the transform is late, then swaps it in', async () => {
    const transform = delayedTransform(300);
    const cache = createModuleCache({
      caps: defaultModuleCaps,
      makeResumable: transform.makeResumable,
      resumableWaitMs: 20,
    });
    const first = await cache.prepare({ bytes: sleeper, ...limits });
    expect(first.isResumable).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 600));
    const later = await cache.lookup({ digest: first.digest, ...limits });
    expect(later?.isResumable).toBe(true);
    expect(transform.calls).toHaveLength(1);
  });

  it('runs a module the ordinary way when the transform fails', async () => {
    const cache = createModuleCache({
      caps: defaultModuleCaps,
      makeResumable: () => Promise.reject(new Error('binaryen cannot')),
    });
    const prepared = await cache.prepare({ bytes: sleeper, ...limits });
    expect(prepared.isResumable).toBe(false);
  });

  it('does not transform an unmetered module', async () => {
    const transform = delayedTransform(0);
    const cache = createModuleCache({
      caps: defaultModuleCaps,
      makeResumable: transform.makeResumable,
    });
    const prepared = await cache.prepare({ bytes: sleeper, memMiB: 1 });
    expect(prepared.isResumable).toBe(false);
    expect(transform.calls).toEqual([]);
  });
});
