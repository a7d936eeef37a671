// Makes an instrumented module resumable (binaryen's Asyncify): `poll_oneoff` and running out of
// a fuel slice unwind the guest's stack, so one worker thread can interleave many sleeping tasks.
import binaryen from 'binaryen';
import { outOfFuelExport } from './instrument-module.js';
import { InstrumentExports, yieldImport } from './worker-messages.js';

/**
 * Rewrites a module instrumented with `shouldExportOutOfFuel`: the out-of-fuel helper calls the
 * `pacer.yield` import, and Asyncify lets that import and `poll_oneoff` suspend the guest.
 * Throws when binaryen cannot (the caller then runs the module the ordinary way).
 */
export function makeResumable(bytes: Uint8Array): Uint8Array {
  const module = binaryen.readBinary(bytes);
  try {
    // What the engine of Node 20 runs; `All` would emit encodings it does not know yet.
    // BulkMemoryOpt (memory.fill/copy) goes with BulkMemory: without it binaryen aborts on
    // any module that uses them, and such a sleeper would never run resident.
    const f = binaryen.Features;
    module.setFeatures(
      f.MutableGlobals |
        f.SignExt |
        f.BulkMemory |
        f.BulkMemoryOpt |
        f.NontrappingFPToInt |
        f.SIMD128 |
        f.Multivalue |
        f.ReferenceTypes |
        f.ExceptionHandling |
        f.TailCall,
    );
    const helper = binaryen.getExportInfo(module.getExport(outOfFuelExport)).value;
    const yieldName = '__pacer_yield_import';
    module.addFunctionImport(
      yieldName,
      yieldImport.module,
      yieldImport.name,
      binaryen.none,
      binaryen.none,
    );
    const fuel = binaryen.getExportInfo(module.getExport(InstrumentExports.fuel)).value;
    module.removeFunction(helper);
    // loop { yield; if (fuel < 0) continue }: each yield is one slice refilled by the worker, so
    // a charge larger than a slice (a bulk instruction, a host call) waits for as many turns as
    // it costs, and the guest never runs on with a negative counter.
    module.addFunction(
      helper,
      binaryen.none,
      binaryen.none,
      [],
      module.loop(
        'refill',
        module.block(null, [
          module.call(yieldName, [], binaryen.none),
          module.br(
            'refill',
            module.i64.lt_s(module.global.get(fuel, binaryen.i64), module.i64.const(0n)),
          ),
        ]),
      ),
    );
    binaryen.setPassArgument(
      'asyncify-imports',
      // Socket mode: a blocking accept, recv, send or read waits for traffic without holding the
      // thread (wasi/waiter.ts).
      ['poll_oneoff', 'sock_accept', 'sock_recv', 'sock_send', 'fd_read']
        .map((name) => `wasi_snapshot_preview1.${name}`)
        .concat(`${yieldImport.module}.${yieldImport.name}`)
        .join(','),
    );
    module.runPasses(['asyncify']);
    if (!module.validate()) throw new Error('binaryen produced an invalid module');
    return module.emitBinary();
  } finally {
    module.dispose();
  }
}
