// The module cache's resumable path: a sleeper's launch waits for the Asyncify transform, and
// goes on with the ordinary module only when the transform is slower than `resumableWaitMs`.
import { describe, expect, it } from 'vitest';
import wabtInit from 'wabt';
import { defaultModuleCaps } from './check-module.js';
import { setFuelBudget } from './fuel-counter.js';
import { createModuleCache } from './module-cache.js';
import { waitFor } from '../../../test/support/wait-for.js';

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

/** A transform that answers, once released, with the bytes it was given (a valid module). */
function gatedTransform() {
  const calls: number[] = [];
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const makeResumable = async (bytes: Uint8Array) => {
    calls.push(bytes.length);
    await gate;
    return bytes;
  };
  return { calls, makeResumable, release };
}

describe('module cache, resumable modules', () => {
  it('waits for a transform that comes within resumableWaitMs and caches the resumable module', async () => {
    const transform = gatedTransform();
    const cache = createModuleCache({
      caps: defaultModuleCaps,
      makeResumable: transform.makeResumable,
      resumableWaitMs: 600_000, // longer than the test may run: the launches wait for it
    });
    const both = Promise.all([
      cache.prepare({ bytes: sleeper, ...limits }),
      cache.prepare({ bytes: sleeper, ...limits }),
    ]);
    await waitFor('the transform called', () => transform.calls.length > 0);
    transform.release();
    const [a, b] = await both;
    expect(a.isResumable).toBe(true);
    expect(b).toBe(a); // concurrent launches share one transform and one compile
    expect(transform.calls).toHaveLength(1);
  });

  it('goes on with the ordinary module when the transform is late, then swaps it in', async () => {
    const transform = gatedTransform();
    const cache = createModuleCache({
      caps: defaultModuleCaps,
      makeResumable: transform.makeResumable,
      resumableWaitMs: 20,
    });
    // The transform answers only once released, after the launch gave up waiting for it.
    const first = await cache.prepare({ bytes: sleeper, ...limits });
    expect(first.isResumable).toBe(false);
    transform.release();
    await waitFor('the resumable module swapped in', async () =>
      (await cache.lookup({ digest: first.digest, ...limits }))?.isResumable === true
        ? true
        : undefined,
    );
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
    const transform = gatedTransform();
    transform.release();
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
