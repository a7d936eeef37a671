// The metering rules of meter-function.ts on small modules: the counter kept in a local and
// stored at each charge, reloaded after calls (also after a caught throw), leaves charged by their
// callers, checks after calls and on large segments, and how far a task can run past its budget.
import { describe, expect, it } from 'vitest';
import wabtInit from 'wabt';
import { instrumentModule } from './instrument-module.js';
import { maxUncheckedFuel } from './meter-function.js';
import { parseModule } from './parse-module.js';
import { InstrumentExports } from './worker-messages.js';

const wabt = await wabtInit();
const budget = 1_000_000_000n;

function instantiate(wat: string, fuel = budget): WebAssembly.Instance {
  const parsed = wabt.parseWat('test.wat', wat, {
    exceptions: true,
    tail_call: true,
    reference_types: true,
    bulk_memory: true,
  });
  const { buffer } = parsed.toBinary({});
  parsed.destroy();
  const result = instrumentModule(parseModule(buffer), {
    memMiB: 1,
    shouldMeter: true,
    maxTableElements: 100,
  });
  if (!result.ok) throw new Error(result.message);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(result.bytes), {});
  counterOf(instance).value = fuel;
  return instance;
}

const counterOf = (instance: WebAssembly.Instance) =>
  instance.exports[InstrumentExports.fuel] as WebAssembly.Global;

/** Fuel used by `run(...args)` on a fresh instance. */
function fuelUsed(wat: string, ...args: number[]): bigint {
  const instance = instantiate(wat);
  (instance.exports.run as (...a: number[]) => unknown)(...args);
  return budget - (counterOf(instance).value as bigint);
}

/** `$burn(k)`: a loop of k iterations, so never charged by its callers. */
const burn = `(func $burn (param $k i32) (local $i i32)
    (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $k)))))`;

describe('meterFunction', () => {
  it('charges every loop iteration, with the fuel its callees used kept (not overwritten)', () => {
    const wat = `(module ${burn}
      (func (export "burn") (param i32) (call $burn (local.get 0)))
      (func (export "run") (param $n i32) (local $i i32)
        (block $done (loop $l
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (call $burn (i32.const 100))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $l)))))`;
    const burnAlone = fuelUsed(wat.replace('"run"', '"unused"').replace('"burn"', '"run"'), 100);
    const perIteration = fuelUsed(wat, 1) - fuelUsed(wat, 0);
    // The callee's charges survive the caller's later ones: each iteration pays for them.
    expect(perIteration).toBeGreaterThan(burnAlone);
    for (const n of [2, 7, 50]) {
      expect(fuelUsed(wat, n)).toBe(fuelUsed(wat, 0) + BigInt(n) * perIteration);
    }
  });

  it('charges a small leaf called only directly its whole body at the call site', () => {
    // $pick's arms cost 1 and 7: charged by its caller, a call costs the whole body either way.
    const leaf = `(func $pick (param $x i32) (result i32)
      (if (result i32) (local.get $x) (then (i32.const 1))
        (else (i32.add (i32.add (i32.const 1) (i32.const 2)) (i32.add (i32.const 3) (i32.const 4))))))`;
    const direct = `(module ${leaf}
      (func (export "run") (param i32) (result i32) (call $pick (local.get 0))))`;
    expect(fuelUsed(direct, 1)).toBe(fuelUsed(direct, 0));
    // In a table it can be called indirectly: then it charges itself, per arm taken.
    const inTable = `(module ${leaf} (table 1 funcref) (elem (i32.const 0) $pick)
      (func (export "run") (param i32) (result i32) (call $pick (local.get 0))))`;
    expect(fuelUsed(inTable, 0) - fuelUsed(inTable, 1)).toBe(6n);
    // The whole body is the longer path (9) plus the arm not taken (1).
    expect(fuelUsed(direct, 0)).toBe(fuelUsed(inTable, 0) + 1n);
  });

  it('lets a leaf that any table, export, global or ref.func can reach charge itself', () => {
    const leaf = `(func $pick (param $x i32) (result i32)
      (if (result i32) (local.get $x) (then (i32.const 1))
        (else (i32.add (i32.add (i32.const 1) (i32.const 2)) (i32.add (i32.const 3) (i32.const 4))))))`;
    const reaches = [
      '(table 1 funcref) (elem (i32.const 0) $pick)',
      '(elem func $pick)',
      '(table $t 1 funcref) (elem (table $t) (i32.const 0) func $pick)',
      '(elem declare func $pick)',
      '(table 1 funcref) (elem (i32.const 0) funcref (ref.func $pick))',
      '(elem funcref (ref.func $pick))',
      '(table $t 1 funcref) (elem (table $t) (i32.const 0) funcref (ref.func $pick))',
      '(elem declare funcref (ref.func $pick))',
      '(global funcref (ref.func $pick))',
      '(export "pick" (func $pick))',
      '(elem declare func $pick) (func (drop (ref.func $pick)))',
    ];
    for (const reach of reaches) {
      const wat = `(module ${leaf} ${reach}
        (func (export "run") (param i32) (result i32) (call $pick (local.get 0))))`;
      // Charged per arm taken (1 or 7), not its whole body on every call.
      expect(fuelUsed(wat, 0) - fuelUsed(wat, 1), reach).toBe(6n);
    }
  });

  it('charges a leaf through call_indirect and ref.func in its own body', () => {
    const wat = `(module (type $t (func (param i32) (result i32)))
      (table 1 funcref) (elem (i32.const 0) $sq)
      (func $sq (param $x i32) (result i32) (i32.mul (local.get $x) (local.get $x)))
      (func (export "run") (param $n i32) (result i32)
        (call_indirect (type $t) (local.get $n) (i32.const 0))))`;
    const indirect = fuelUsed(wat, 3);
    const direct = fuelUsed(
      wat.replace(
        '(call_indirect (type $t) (local.get $n) (i32.const 0))',
        '(call $sq (local.get $n))',
      ),
      3,
    );
    // call_indirect costs one more operand (the table index) than call: the callee is paid once.
    expect(indirect - direct).toBe(1n);
  });

  it('keeps the fuel a callee used before a throw its caller catches', () => {
    const wat = `(module (tag $e) ${burn}
      (func $burnThenThrow (call $burn (i32.const 1000)) (throw $e))
      (func (export "run") (param $n i32) (local $i i32)
        (loop $l
          (try (do (call $burnThenThrow)) (catch $e))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (local.get $n))))))`;
    const perIteration = fuelUsed(wat, 2) - fuelUsed(wat, 1);
    expect(perIteration).toBeGreaterThan(8000n); // $burn(1000): 8 per iteration of its loop
    expect(fuelUsed(wat, 20)).toBe(fuelUsed(wat, 1) + 19n * perIteration);
  });

  it('stops a task on its way back up a deep recursion (checks after calls)', () => {
    // Each frame runs 200 instructions after its call returns: without a check after calls the
    // way back up would run depth × 200 past the budget and return normally.
    const tail = '(drop (i32.const 0)) '.repeat(100);
    const wat = `(module
      (func $down (param $n i32)
        (if (local.get $n) (then (call $down (i32.sub (local.get $n) (i32.const 1)))))
        ${tail})
      (func (export "run") (param i32) (call $down (local.get 0))))`;
    const depth = 1000;
    const descent = fuelUsed(wat, depth) - BigInt(depth + 1) * 200n;
    const instance = instantiate(wat, descent + 50_000n); // enough to go down, not to come back
    expect(() => (instance.exports.run as (n: number) => void)(depth)).toThrow(
      WebAssembly.RuntimeError,
    );
    const left = counterOf(instance).value as bigint;
    expect(left).toBeLessThan(0n);
    // Past the budget by at most one frame's straight-line code (the segment after the call).
    expect(left).toBeGreaterThanOrEqual(-200n);
  });

  it('checks a segment over maxUncheckedFuel before it runs', () => {
    const long = '(drop (i32.const 0)) '.repeat(maxUncheckedFuel / 2 + 10);
    // The segment after the block is not a loop header nor an entry: only its size checks it.
    const wat = `(module (global $ran (mut i32) (i32.const 0))
      (func (export "ran") (result i32) (global.get $ran))
      (func (export "run") (block (global.set $ran (i32.const 0))) (global.set $ran (i32.const 1)) ${long}))`;
    const instance = instantiate(wat, 100n);
    expect(() => (instance.exports.run as () => void)()).toThrow(WebAssembly.RuntimeError);
    expect((instance.exports.ran as () => number)()).toBe(0);
    expect(counterOf(instance).value as bigint).toBeLessThan(0n);
  });

  it('reports exactly the fuel charged before a trap (the counter is stored at every charge)', () => {
    // Loads at 0, step, 2·step, … until one is out of bounds (past 65532 in one page): every
    // iteration costs 8, the trapping one included (charged at its loop header).
    const wat = `(module (memory 1)
      (func (export "run") (param $step i32) (local $p i32)
        (loop $l
          (drop (i32.load (local.get $p)))
          (local.set $p (i32.add (local.get $p) (local.get $step)))
          (br $l))))`;
    for (const step of [1000, 4096]) {
      const instance = instantiate(wat);
      expect(() => (instance.exports.run as (n: number) => void)(step)).toThrow(
        WebAssembly.RuntimeError,
      );
      const iterations = Math.floor(65532 / step) + 2;
      expect(budget - (counterOf(instance).value as bigint)).toBe(BigInt(8 * iterations));
    }
  });
});
