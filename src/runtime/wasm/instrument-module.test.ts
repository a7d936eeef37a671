// The rewriter on real modules: valid output that computes the same results for every
// instruction class, exact fuel on known loops, the memory cap and the start function.
import { describe, expect, it } from 'vitest';
import wabtInit from 'wabt';
import { instrumentModule, memoryImport, pageBytes, startExport } from './instrument-module.js';
import { parseModule } from './parse-module.js';
import { InstrumentExports } from './worker-messages.js';

const wabt = await wabtInit();

function assemble(wat: string): Uint8Array {
  const module = wabt.parseWat('test.wat', wat, {
    exceptions: true,
    tail_call: true,
    bulk_memory: true,
    reference_types: true,
    simd: true,
    multi_value: true,
  });
  const { buffer } = module.toBinary({});
  module.destroy();
  return buffer;
}

interface Run {
  result: unknown;
  fuelLeft: bigint;
  instance: WebAssembly.Instance;
}

interface RewriteOptions {
  fuel?: bigint;
  memMiB?: number;
  maxTableElements?: number;
}

function rewrite(wat: string, options: RewriteOptions = {}): Uint8Array {
  const result = instrumentModule(parseModule(assemble(wat)), {
    memMiB: options.memMiB ?? 1,
    shouldMeter: true,
    maxTableElements: options.maxTableElements ?? 1000,
  });
  if (!result.ok) throw new Error(result.message);
  expect(WebAssembly.validate(result.bytes)).toBe(true);
  return result.bytes;
}

/** Instantiates the rewritten module with `fuel` (default 10^9) in its counter, as workers do. */
function instantiate(wat: string, options: RewriteOptions = {}) {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(rewrite(wat, options)), {});
  const counter = instance.exports[InstrumentExports.fuel] as WebAssembly.Global;
  counter.value = options.fuel ?? 1_000_000_000n;
  return instance;
}

function run(wat: string, args: unknown[] = [], options: RewriteOptions = {}): Run {
  const instance = instantiate(wat, options);
  const fn = instance.exports.run as (...a: unknown[]) => unknown;
  const result = fn(...args);
  const fuel = instance.exports[InstrumentExports.fuel] as WebAssembly.Global;
  return { result, fuelLeft: fuel.value as bigint, instance };
}

function plain(wat: string, args: unknown[] = []): unknown {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(assemble(wat)), {});
  return (instance.exports.run as (...a: unknown[]) => unknown)(...args);
}

const classes: Record<string, { wat: string; args: unknown[] }> = {
  'numeric, locals, globals, memory, sign extension, saturating truncation': {
    args: [7],
    wat: `(module (memory 1) (global $g (mut i32) (i32.const 5))
      (func (export "run") (param $x i32) (result i32) (local $y i64)
        (i32.store offset=4 (i32.const 8) (i32.mul (local.get $x) (global.get $g)))
        (local.set $y (i64.extend8_s (i64.const 0xff)))
        (global.set $g (i32.trunc_sat_f64_s (f64.const 1e30)))
        (i32.add (i32.load offset=4 (i32.const 8)) (i32.add (i32.wrap_i64 (local.get $y)) (i32.eqz (global.get $g))))))`,
  },
  'block, loop, if/else, br, br_if, br_table, select, return': {
    args: [3],
    wat: `(module
      (func $case (param $i i32) (result i32)
        (block $d (block $c (block $b (block $a
          (br_table $a $b $c $d (local.get $i)))
          (return (i32.const 10)))
          (return (i32.const 20)))
          (return (i32.const 30)))
        (i32.const 40))
      (func (export "run") (param $n i32) (result i32) (local $i i32) (local $acc i32)
        (loop $l
          (local.set $acc (i32.add (local.get $acc) (call $case (local.get $i))))
          (if (i32.eq (local.get $i) (i32.const 2)) (then (local.set $acc (i32.add (local.get $acc) (i32.const 1))))
            (else (local.set $acc (select (local.get $acc) (i32.const 0) (i32.const 1)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.le_u (local.get $i) (local.get $n))))
        (local.get $acc)))`,
  },
  'call, call_indirect, return_call, return_call_indirect': {
    args: [10],
    wat: `(module (type $t (func (param i32) (result i32)))
      (table 2 funcref) (elem (i32.const 0) $dec $count)
      (func $dec (param $n i32) (result i32) (i32.sub (local.get $n) (i32.const 1)))
      (func $count (param $n i32) (result i32)
        (if (result i32) (i32.eqz (local.get $n)) (then (i32.const 100))
          (else (return_call_indirect (type $t) (call $dec (local.get $n)) (i32.const 1)))))
      (func (export "run") (param $n i32) (result i32)
        (i32.add (call_indirect (type $t) (local.get $n) (i32.const 0)) (return_call $count (local.get $n)))))`,
  },
  'exceptions: try, catch, catch_all, throw, rethrow, delegate': {
    args: [5],
    wat: `(module (tag $e (param i32))
      (func $thrower (param $x i32) (throw $e (local.get $x)))
      (func (export "run") (param $x i32) (result i32) (local $r i32)
        (try (do (call $thrower (local.get $x))) (catch $e (local.set $r)))
        (try (do (try (do (call $thrower (i32.const 1))) (catch_all (rethrow 0)))) (catch $e (local.set $r (i32.add (local.get $r)))))
        (try (do (try (do (call $thrower (i32.const 2))) (delegate 0))) (catch $e (local.set $r (i32.add (local.get $r)))))
        (local.get $r)))`,
  },
  'bulk memory, reference types, tables': {
    args: [3],
    wat: `(module (memory 1) (table $t 4 funcref) (data $d "abcdef")
      (func $f (result i32) (i32.const 9))
      (elem declare func $f)
      (func (export "run") (param $x i32) (result i32)
        (memory.init $d (i32.const 100) (i32.const 0) (i32.const 6))
        (data.drop $d)
        (memory.copy (i32.const 200) (i32.const 100) (i32.const 6))
        (memory.fill (i32.const 300) (local.get $x) (i32.const 4))
        (table.set $t (i32.const 1) (ref.func $f))
        (drop (table.grow $t (ref.null func) (i32.const 1)))
        (i32.add (i32.add (i32.load8_u (i32.const 205)) (i32.load8_u (i32.const 303)))
          (i32.add (table.size $t) (ref.is_null (table.get $t (i32.const 0)))))))`,
  },
  'SIMD: v128 loads, stores, lanes, shuffles': {
    args: [4],
    wat: `(module (memory 1)
      (func (export "run") (param $x i32) (result i32)
        (v128.store (i32.const 16) (i32x4.add (v128.const i32x4 1 2 3 4) (i32x4.splat (local.get $x))))
        (i32.add (i32x4.extract_lane 3 (v128.load (i32.const 16)))
          (i8x16.extract_lane_u 0 (i8x16.shuffle 4 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
            (v128.load32_zero (i32.const 16)) (v128.load (i32.const 16)))))))`,
  },
};

describe('instrumentModule', () => {
  for (const [name, { wat, args }] of Object.entries(classes)) {
    it(`keeps the results of ${name}`, () => {
      const metered = run(wat, args);
      expect(metered.result).toEqual(plain(wat, args));
      expect(metered.fuelLeft).toBeLessThan(1_000_000_000n);
    });
  }

  const countingLoop = `(module
    (func (export "run") (param $n i32) (result i32) (local $i i32)
      (block $exit (loop $l
        (br_if $exit (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
      (local.get $i)))`;

  it('charges a counting loop exactly 9n + 5 (4 per header, 5 per body, 1 after)', () => {
    for (const n of [0, 1, 10, 1000]) {
      const { fuelLeft } = run(countingLoop, [n]);
      expect(1_000_000_000n - fuelLeft).toBe(BigInt(9 * n + 5));
    }
  });

  it('uses the same fuel on every run of the same input', () => {
    const wat = classes['block, loop, if/else, br, br_if, br_table, select, return']!.wat;
    const used = [1, 2, 3].map(() => run(wat, [50]).fuelLeft);
    expect(new Set(used).size).toBe(1);
  });

  it('traps with the counter below zero when the budget runs out in a loop', () => {
    const wat = `(module (func (export "run") (loop $l (br $l))))`;
    let fuelLeft = 0n;
    const instance = instantiate(wat, { fuel: 1000n });
    expect(() => (instance.exports.run as () => void)()).toThrow(WebAssembly.RuntimeError);
    fuelLeft = (instance.exports[InstrumentExports.fuel] as WebAssembly.Global).value as bigint;
    expect(fuelLeft).toBeLessThan(0n);
  });

  it('traps recursion that runs out of fuel at function entries', () => {
    const wat = `(module (func $f (param i32) (result i32) (call $f (local.get 0)))
      (func (export "run") (result i32) (call $f (i32.const 0))))`;
    const instance = instantiate(wat, { fuel: 100n });
    expect(() => (instance.exports.run as () => void)()).toThrow(WebAssembly.RuntimeError);
    expect((instance.exports[InstrumentExports.fuel] as WebAssembly.Global).value).toBeLessThan(0n);
  });

  it('compiles the counter at 0 (the budget is set after instantiation) and meters the start function', () => {
    const wat = `(module (func $init (loop $l (br $l))) (start $init) (func (export "run")))`;
    const compiled = new WebAssembly.Instance(new WebAssembly.Module(rewrite(wat)), {});
    expect((compiled.exports[InstrumentExports.fuel] as WebAssembly.Global).value).toBe(0n);
    const instance = instantiate(wat, { fuel: 500n });
    expect(() => (instance.exports[startExport] as () => void)()).toThrow(WebAssembly.RuntimeError);
    expect((instance.exports[InstrumentExports.fuel] as WebAssembly.Global).value).toBeLessThan(0n);
  });

  it('caps memory.grow at memMiB and records the refusal', () => {
    const wat = `(module (memory 1)
      (func (export "run") (result i32) (i32.add (memory.grow (i32.const 15)) (memory.grow (i32.const 1)))))`;
    const { result, instance } = run(wat);
    expect(result).toBe(1 + -1);
    expect((instance.exports[InstrumentExports.growRefused] as WebAssembly.Global).value).toBe(1);
  });

  it('refuses a declared minimum memory over the cap with MEMORY_LIMIT', () => {
    const result = instrumentModule(parseModule(assemble('(module (memory 17))')), {
      memMiB: 1,
      shouldMeter: true,
      maxTableElements: 10,
    });
    expect(result).toMatchObject({ ok: false, reason: 'MEMORY_LIMIT' });
  });
});

const fuelUsed = (wat: string, args: unknown[]): bigint => 1_000_000_000n - run(wat, args).fuelLeft;

describe('instrumentModule, work metered by its size', () => {
  const bulk: Record<string, { wat: string; unitFuel: (n: number) => number }> = {
    'memory.fill': {
      wat: `(module (memory 2) (func (export "run") (param $n i32)
        (memory.fill (i32.const 0) (i32.const 7) (local.get $n))))`,
      unitFuel: (n) => Math.ceil(n / 8),
    },
    'memory.copy': {
      wat: `(module (memory 2) (func (export "run") (param $n i32)
        (memory.copy (i32.const 65536) (i32.const 0) (local.get $n))))`,
      unitFuel: (n) => Math.ceil(n / 8),
    },
    'memory.init': {
      wat: `(module (memory 2) (data $d "${'x'.repeat(70000)}") (func (export "run") (param $n i32)
        (memory.init $d (i32.const 0) (i32.const 0) (local.get $n))))`,
      unitFuel: (n) => Math.ceil(n / 8),
    },
    'table.fill': {
      wat: `(module (table 1000 funcref) (func (export "run") (param $n i32)
        (table.fill (i32.const 0) (ref.null func) (local.get $n))))`,
      unitFuel: (n) => n,
    },
    'table.copy': {
      wat: `(module (table 2000 funcref) (func (export "run") (param $n i32)
        (table.copy (i32.const 1000) (i32.const 0) (local.get $n))))`,
      unitFuel: (n) => n,
    },
    'table.init': {
      wat: `(module (table 1000 funcref) (func $f) (elem $e funcref ${'(ref.func $f) '.repeat(1000)})
        (func (export "run") (param $n i32) (table.init $e (i32.const 0) (i32.const 0) (local.get $n))))`,
      unitFuel: (n) => n,
    },
    'table.grow': {
      wat: `(module (table 0 funcref) (func (export "run") (param $n i32)
        (drop (table.grow (ref.null func) (local.get $n)))))`,
      unitFuel: (n) => n,
    },
  };
  for (const [op, { wat, unitFuel }] of Object.entries(bulk)) {
    it(`charges ${op} its length exactly (fuelForBytes, 8 bytes per table element)`, () => {
      const base = fuelUsed(wat, [0]);
      for (const n of op.startsWith('table') ? [1, 7, 8, 9, 1000] : [1, 7, 8, 9, 65536]) {
        expect(fuelUsed(wat, [n]) - base).toBe(BigInt(unitFuel(n)));
      }
    });
  }

  it('runs memory.fill and memory.copy over many chunks with the same bytes and exact fuel', () => {
    // 3 MiB + 5 bytes, overlapping both ways: the chunks must behave as one memmove.
    const n = 3 * 1048576 + 5;
    const wat = `(module (memory (export "memory") 128)
      (func (export "run") (param $d i32) (param $s i32) (param $n i32) (result i32)
        (local $i i32) (local $sum i32)
        (block $b (loop $l (br_if $b (i32.ge_u (local.get $i) (i32.const 5000000)))
          (i32.store8 (local.get $i) (local.get $i))
          (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l)))
        (memory.copy (local.get $d) (local.get $s) (local.get $n))
        (memory.fill (i32.const 4000000) (i32.const 9) (local.get $n))
        (local.set $i (i32.const 0))
        (block $b (loop $l (br_if $b (i32.ge_u (local.get $i) (i32.const 8388608)))
          (local.set $sum (i32.add (i32.mul (local.get $sum) (i32.const 31)) (i32.load8_u (local.get $i))))
          (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l)))
        (local.get $sum)))`;
    for (const [d, s2] of [
      [100, 1_000_000], // forward, overlapping
      [1_000_000, 100], // backward, overlapping
    ]) {
      const metered = run(wat, [d, s2, n], { memMiB: 8 });
      expect(metered.result).toBe(plain(wat, [d, s2, n]));
      const base = 1_000_000_000n - run(wat, [d, s2, 0], { memMiB: 8 }).fuelLeft;
      const used = 1_000_000_000n - metered.fuelLeft;
      expect(used - base).toBe(2n * BigInt(Math.ceil(n / 8)));
    }
  });

  it('traps an out-of-bounds fill or copy without writing, as the instruction does', () => {
    const wat = `(module (memory (export "memory") 40)
      (func (export "fill") (param $d i32) (param $n i32) (memory.fill (local.get $d) (i32.const 1) (local.get $n)))
      (func (export "copy") (param $d i32) (param $n i32) (memory.copy (local.get $d) (i32.const 0) (local.get $n))))`;
    const instance = instantiate(wat, { memMiB: 4 });
    const memory = new Uint8Array((instance.exports.memory as WebAssembly.Memory).buffer);
    memory[0] = 7;
    const fill = instance.exports.fill as (d: number, n: number) => void;
    const copy = instance.exports.copy as (d: number, n: number) => void;
    expect(() => fill(1, 40 * 65536)).toThrow(WebAssembly.RuntimeError);
    expect(() => copy(1, 40 * 65536)).toThrow(WebAssembly.RuntimeError);
    expect(() => fill(-1, 2)).toThrow(WebAssembly.RuntimeError); // 2^32 - 1 + 2: no wrap
    expect(memory.subarray(1).some((byte) => byte !== 0)).toBe(false);
  });

  it('traps a memory.fill the budget cannot pay before it writes a byte', () => {
    const wat = `(module (memory (export "memory") 16)
      (func (export "run") (memory.fill (i32.const 0) (i32.const 255) (i32.const 1048576))))`;
    const instance = instantiate(wat, { fuel: 100_000n }); // the fill costs 131,072
    expect(() => (instance.exports.run as () => void)()).toThrow(WebAssembly.RuntimeError);
    expect((instance.exports[InstrumentExports.fuel] as WebAssembly.Global).value).toBeLessThan(0n);
    const memory = instance.exports.memory as WebAssembly.Memory;
    expect(new Uint8Array(memory.buffer).some((byte) => byte !== 0)).toBe(false);
  });

  it('charges memory.grow 8192 fuel per page granted, nothing for a refusal', () => {
    const wat = `(module (memory 1) (func (export "run") (param $n i32) (result i32)
      (memory.grow (local.get $n))))`;
    const base = fuelUsed(wat, [0]);
    expect(fuelUsed(wat, [3]) - base).toBe(3n * 8192n);
    expect(fuelUsed(wat, [1000]) - base).toBe(0n); // past the 1 MiB cap: -1
  });
});

describe('instrumentModule, tables count against mem', () => {
  it('refuses declared table elements over mem with MEMORY_LIMIT', () => {
    // 200,000 elements × 8 bytes = 1.5 MiB, with one page of memory, against mem = 1 MiB.
    const result = instrumentModule(
      parseModule(assemble('(module (memory 1) (table 200000 funcref))')),
      { memMiB: 1, shouldMeter: true, maxTableElements: 1_000_000 },
    );
    expect(result).toMatchObject({ ok: false, reason: 'MEMORY_LIMIT' });
    if (!result.ok) expect(result.message).toMatch(/200000 table elements/);
  });

  it('makes table.grow and memory.grow share what mem leaves', () => {
    const wat = `(module (memory 1) (table $t 0 funcref)
      (func (export "table") (param $n i32) (result i32) (table.grow $t (ref.null func) (local.get $n)))
      (func (export "memory") (param $n i32) (result i32) (memory.grow (local.get $n))))`;
    const instance = instantiate(wat, { maxTableElements: 1_000_000 });
    const table = instance.exports.table as (n: number) => number;
    const memory = instance.exports.memory as (n: number) => number;
    const refused = instance.exports[InstrumentExports.growRefused] as WebAssembly.Global;
    // mem 1 MiB = 1,048,576 bytes: 65,536 for the first page, 983,040 left.
    expect(table(100_000)).toBe(0); // 800,000 bytes, 183,040 left
    expect(memory(3)).toBe(-1); // 196,608 bytes: over
    expect(refused.value).toBe(1);
    expect(memory(2)).toBe(1); // 131,072 bytes, 51,968 left
    expect(table(6_497)).toBe(-1); // 51,976 bytes: over
    expect(table(6_496)).toBe(100_000); // 51,968 bytes: exactly what is left
    expect(table(1)).toBe(-1);
  });
});

describe('instrumentModule, memory made an import (shouldImportMemory)', () => {
  const imported = (wat: string, memMiB = 1) =>
    instrumentModule(parseModule(assemble(wat)), {
      memMiB,
      shouldMeter: true,
      maxTableElements: 1000,
      shouldImportMemory: true,
    });

  it('keeps the declared minimum and caps the maximum at mem', () => {
    const result = imported('(module (memory (export "memory") 3))');
    expect(result).toMatchObject({ ok: true, importedMemory: { minPages: 3, maxPages: 16 } });
    const declared = imported('(module (memory 2 5))');
    expect(declared).toMatchObject({ ok: true, importedMemory: { minPages: 2, maxPages: 5 } });
    if (!result.ok) return;
    const module = new WebAssembly.Module(result.bytes);
    expect(WebAssembly.Module.imports(module)).toContainEqual({
      ...memoryImport,
      kind: 'memory',
    });
  });

  it('links the given memory as memory 0: data segments, loads, exports and grow use it', () => {
    const wat = `(module (memory (export "memory") 1) (data (i32.const 8) "\\2a")
      (func (export "run") (result i32) (drop (memory.grow (i32.const 1))) (i32.load8_u (i32.const 8))))`;
    const result = imported(wat);
    if (!result.ok) throw new Error(result.message);
    const given = new WebAssembly.Memory({ initial: 1, maximum: 16 });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(result.bytes), {
      [memoryImport.module]: { [memoryImport.name]: given },
    });
    expect(instance.exports.memory).toBe(given);
    expect(new Uint8Array(given.buffer)[8]).toBe(0x2a);
    (instance.exports[InstrumentExports.fuel] as WebAssembly.Global).value = 1_000_000n;
    expect((instance.exports.run as () => number)()).toBe(0x2a);
    expect(given.buffer.byteLength).toBe(2 * pageBytes);
  });

  it('still refuses growth past mem, counted from the declared minimum', () => {
    const wat = `(module (memory 1)
      (func (export "run") (result i32) (i32.add (memory.grow (i32.const 15)) (memory.grow (i32.const 1)))))`;
    const result = imported(wat);
    if (!result.ok) throw new Error(result.message);
    const instance = new WebAssembly.Instance(new WebAssembly.Module(result.bytes), {
      [memoryImport.module]: {
        [memoryImport.name]: new WebAssembly.Memory({ initial: 1, maximum: 16 }),
      },
    });
    (instance.exports[InstrumentExports.fuel] as WebAssembly.Global).value = 1_000_000_000n;
    expect((instance.exports.run as () => number)()).toBe(1 + -1);
    expect((instance.exports[InstrumentExports.growRefused] as WebAssembly.Global).value).toBe(1);
  });

  it('leaves a shared memory, and a module without memory, as they are', () => {
    const shared = imported('(module (memory 1 2 shared))');
    expect(shared).toMatchObject({ ok: true });
    expect(shared.ok && shared.importedMemory).toBeUndefined();
    const none = imported('(module (func (export "run")))');
    expect(none.ok && none.importedMemory).toBeUndefined();
  });
});

describe('instrumentModule on a large module', () => {
  it('rewrites a module whose code section is over a megabyte', () => {
    // 8,000 functions of ~140 bytes: a code section far past what `push(...bytes)` survived.
    const body = Array.from(
      { length: 40 },
      (_, i) => `(local.set $x (i32.add (local.get $x) (i32.const ${i})))`,
    ).join(' ');
    const functions = Array.from(
      { length: 8000 },
      (_, i) =>
        `(func $f${i} (param $x i32) (result i32) ${body} ${i > 0 ? `(call $f${i - 1} (local.get $x))` : '(local.get $x)'})`,
    ).join('\n');
    const wat = `(module ${functions} (func (export "run") (result i32) (call $f7999 (i32.const 0))))`;
    expect(assemble(wat).length).toBeGreaterThan(1_000_000);
    const { result } = run(wat);
    expect(result).toBe(8000 * ((39 * 40) / 2));
  });
});
