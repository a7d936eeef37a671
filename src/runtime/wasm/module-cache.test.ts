// The module cache's resumable path: a sleeper's launch waits for the Asyncify transform, and
// goes on with the ordinary module only when the transform is slower than `resumableWaitMs`.
import { describe, expect, it } from 'vitest';
import wabtInit from 'wabt';
import { defaultModuleCaps } from './check-module.js';
import { setFuelBudget } from './fuel-counter.js';
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

const limits = { memMiB: 1, isMetered: true };

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
    const prepared = await cache.prepare({ bytes: sleeper, memMiB: 1, isMetered: false });
    expect(prepared.isResumable).toBe(false);
    expect(transform.calls).toEqual([]);
  });
});

describe('module cache, one compile for every fuel budget', () => {
  /** A counting loop to `n` (9n + 5 fuel, instrument-module.test.ts), exported as `run`. */
  const counter = (() => {
    const module = wabt.parseWat(
      'count.wat',
      `(module
        (func (export "run") (param $n i32) (result i32) (local $i i32)
          (block $exit (loop $l
            (br_if $exit (i32.ge_u (local.get $i) (local.get $n)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $l)))
          (local.get $i))
        (func (export "_start")))`,
    );
    const { buffer } = module.toBinary({});
    module.destroy();
    return buffer;
  })();

  it('serves two budgets from one compile, each counted exactly', async () => {
    const cache = createModuleCache({ caps: defaultModuleCaps });
    try {
      const a = await cache.prepare({ bytes: counter, memMiB: 1, isMetered: true });
      const b = await cache.prepare({ bytes: counter, memMiB: 1, isMetered: true });
      expect(b).toBe(a);
      expect(cache.compiles).toBe(1); // the second task was a cache hit
      for (const budget of [1_000n, 10n ** 12n]) {
        const instance = new WebAssembly.Instance(a.module, {});
        const fuel = setFuelBudget(instance, budget);
        (instance.exports.run as (n: number) => number)(100);
        expect(budget - (fuel?.value as bigint)).toBe(9n * 100n + 5n);
      }
      const unmetered = await cache.prepare({ bytes: counter, memMiB: 1, isMetered: false });
      expect(unmetered).not.toBe(a);
      expect(cache.compiles).toBe(2);
    } finally {
      await cache.close();
    }
  });

  it('refuses in the instrument thread with the defined codes', async () => {
    const cache = createModuleCache({ caps: defaultModuleCaps });
    try {
      const garbage = Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0xff, 0xff]);
      await expect(
        cache.prepare({ bytes: garbage, memMiB: 1, isMetered: true }),
      ).rejects.toMatchObject({ reason: 'INVALID_MODULE' });
      const tables = wabt.parseWat(
        't.wat',
        '(module (table 1000000 funcref) (func (export "_start")))',
      );
      const { buffer } = tables.toBinary({});
      tables.destroy();
      await expect(
        cache.prepare({ bytes: buffer, memMiB: 1, isMetered: true }),
      ).rejects.toMatchObject({ reason: 'MEMORY_LIMIT' });
    } finally {
      await cache.close();
    }
  });
});
