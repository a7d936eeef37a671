// Fuel metering compared in one harness (issue 11): the benchmark kernels run in this process,
// unmetered, metered by Pacer's rewriter and metered by `wasm-metering` from npm (the injector a
// user would otherwise pick), in alternating rounds, so machine noise hits all three alike.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import wabtInit from 'wabt';
import { instrumentModule } from '../src/runtime/wasm/instrument-module.js';
import { parseModule } from '../src/runtime/wasm/parse-module.js';
import { wasmTaskPath } from '../wasm-tasks/fixtures.js';
import { median } from './results.js';

const require = createRequire(import.meta.url);
// CommonJS without types: its documented API (README) is meterWASM(bytes, options) → Buffer.
const metering = require('wasm-metering') as {
  meterWASM(bytes: Uint8Array, options: { meterType: 'i32' | 'i64' }): Uint8Array;
};

/**
 * `wasmMetering` calls a JS `usegas` (as in its README); `wasmMeteringWasmGas` a `usegas` written
 * in Wasm (a counter global and a limit check), the cheapest host a user could give it.
 */
export type Variant = 'plain' | 'pacer' | 'wasmMetering' | 'wasmMeteringWasmGas';
const variants: Variant[] = ['plain', 'pacer', 'wasmMetering', 'wasmMeteringWasmGas'];
type Metered = Exclude<Variant, 'plain'>;
const metered: Metered[] = ['pacer', 'wasmMetering', 'wasmMeteringWasmGas'];

const wasmGasText = `(module
  (global $gas (mut i64) (i64.const 0))
  (func (export "usegas") (param $used i32)
    (global.set $gas (i64.add (global.get $gas) (i64.extend_i32_u (local.get $used))))
    (if (i64.gt_u (global.get $gas) (i64.const 0x7fffffffffffffff)) (then unreachable))))`;

async function wasmUsegas(): Promise<WebAssembly.ExportValue> {
  const wabt = await wabtInit();
  const parsed = wabt.parseWat('usegas.wat', wasmGasText);
  const { buffer } = parsed.toBinary({});
  parsed.destroy();
  const instance = await WebAssembly.instantiate(await WebAssembly.compile(buffer));
  return instance.exports.usegas as WebAssembly.ExportValue;
}

/** Ratio to the unmetered run of the same round: median and spread over the rounds. */
export interface RatioSpread {
  median: number;
  min: number;
  max: number;
}

export function spreadOf(ratios: number[]): RatioSpread {
  const r = (x: number) => Number(x.toFixed(3));
  return { median: r(median(ratios)), min: r(Math.min(...ratios)), max: r(Math.max(...ratios)) };
}

/**
 * Instantiates the kernels module with just the three WASI calls it makes (args for the kernel
 * letter, a silent fd_write) and `metering.usegas` for wasm-metering's counter.
 */
function instantiate(
  module: WebAssembly.Module,
  kind: string,
  usegas?: WebAssembly.ExportValue,
): () => void {
  // Set once instantiated: the host functions only run after that.
  const guest: { memory?: WebAssembly.Memory } = {};
  const bytesOf = () => (guest.memory as WebAssembly.Memory).buffer;
  const view = () => new DataView(bytesOf());
  // A third argument makes the kernels ten times smaller (kernels.wat): wasm-metering is slow.
  const args = ['kernels.wasm', kind, 'small'].map((a) => `${a}\0`);
  const argBytes = new TextEncoder().encode(args.join(''));
  let gas = 0;
  const gasLimit = Number.MAX_SAFE_INTEGER;
  const instance = new WebAssembly.Instance(module, {
    wasi_snapshot_preview1: {
      args_sizes_get: (countPtr: number, sizePtr: number) => {
        view().setUint32(countPtr, args.length, true);
        view().setUint32(sizePtr, argBytes.length, true);
        return 0;
      },
      args_get: (argvPtr: number, bufPtr: number) => {
        new Uint8Array(bytesOf()).set(argBytes, bufPtr);
        view().setUint32(argvPtr, bufPtr, true);
        view().setUint32(argvPtr + 4, bufPtr + (args[0] as string).length, true);
        return 0;
      },
      fd_write: (_fd: number, _iovs: number, _count: number, writtenPtr: number) => {
        view().setUint32(writtenPtr, 0, true);
        return 0;
      },
    },
    metering: {
      // The host function wasm-metering's README asks for: count, and stop past the limit.
      usegas:
        usegas ??
        ((used: number) => {
          gas += used;
          if (gas > gasLimit) throw new Error('out of gas');
        }),
    },
  });
  guest.memory = instance.exports.memory as WebAssembly.Memory;
  // Pacer's compiled counter starts at 0; the driver sets each task's budget (module-cache.ts).
  const fuel = instance.exports.__pacer_fuel as WebAssembly.Global | undefined;
  if (fuel) fuel.value = 10n ** 15n;
  return instance.exports._start as () => void;
}

/**
 * Per kernel, the time of each variant and its ratio to `plain` in the same round, over
 * `rounds` rounds whose variant order rotates (each variant goes first as often).
 */
export async function compareMetering(options: {
  kernels: Record<string, string>;
  rounds: number;
}): Promise<Record<string, { ms: Record<Variant, number>; ratio: Record<Metered, RatioSpread> }>> {
  // The driver's tier (wasm-driver.ts): TurboFan only, so no variant runs on baseline code.
  setFlagsFromString('--no-liftoff');
  const bytes = new Uint8Array(readFileSync(wasmTaskPath('kernels')));
  const instrumented = instrumentModule(parseModule(bytes), {
    memMiB: 16,
    shouldMeter: true,
    maxTableElements: 1000,
  });
  if (!instrumented.ok) throw new Error(instrumented.message);
  // i32 counter as in wasm-metering's README example (its i64 default crosses as a BigInt).
  const meteredByThem = await WebAssembly.compile(metering.meterWASM(bytes, { meterType: 'i32' }));
  const modules: Record<Variant, WebAssembly.Module> = {
    plain: await WebAssembly.compile(bytes),
    pacer: await WebAssembly.compile(instrumented.bytes),
    wasmMetering: meteredByThem,
    wasmMeteringWasmGas: meteredByThem,
  };
  const gasInWasm = await wasmUsegas();
  const results: Awaited<ReturnType<typeof compareMetering>> = {};
  for (const [name, kind] of Object.entries(options.kernels)) {
    const run = (variant: Variant): number => {
      const start = instantiate(
        modules[variant],
        kind,
        variant === 'wasmMeteringWasmGas' ? gasInWasm : undefined,
      );
      const t0 = performance.now();
      start();
      return performance.now() - t0;
    };
    for (const variant of variants) run(variant); // warm: compile and first-run costs
    const times: Record<Variant, number[]> = {
      plain: [],
      pacer: [],
      wasmMetering: [],
      wasmMeteringWasmGas: [],
    };
    const ratios: Record<Metered, number[]> = {
      pacer: [],
      wasmMetering: [],
      wasmMeteringWasmGas: [],
    };
    for (let round = 0; round < options.rounds; round++) {
      const ms = {} as Record<Variant, number>;
      for (let k = 0; k < variants.length; k++) {
        const variant = variants[(round + k) % variants.length] as Variant;
        ms[variant] = run(variant);
        times[variant].push(ms[variant]);
      }
      for (const variant of metered) ratios[variant].push(ms[variant] / ms.plain);
    }
    const medianMs = (variant: Variant) => Math.round(median(times[variant]));
    results[name] = {
      ms: Object.fromEntries(variants.map((v) => [v, medianMs(v)])) as Record<Variant, number>,
      ratio: Object.fromEntries(metered.map((v) => [v, spreadOf(ratios[v])])) as Record<
        Metered,
        RatioSpread
      >,
    };
  }
  return results;
}
