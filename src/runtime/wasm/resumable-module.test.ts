// Asyncify of a sleeper that uses bulk memory (found by the loader fuzz: binaryen aborted on
// memory.fill, so such a module, as clang emits by default, never ran resident).
import wabtInit from 'wabt';
import { describe, expect, it } from 'vitest';
import { instrumentModule } from './instrument-module.js';
import { parseModule } from './parse-module.js';
import { makeResumable } from './resumable-module.js';
import { yieldImport } from './worker-messages.js';

const sleeperWithBulkMemory = `(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (drop (call $poll (i32.const 256) (i32.const 320) (i32.const 1) (i32.const 16)))
    (memory.fill (i32.const 0) (i32.const 7) (i32.const 1024))
    (memory.copy (i32.const 2048) (i32.const 0) (i32.const 1024))))`;

describe('makeResumable', () => {
  it('transforms a sleeper that uses memory.fill and memory.copy', async () => {
    const wabt = await wabtInit();
    const parsedText = wabt.parseWat('sleeper.wat', sleeperWithBulkMemory, { bulk_memory: true });
    const { buffer } = parsedText.toBinary({});
    parsedText.destroy();
    const instrumented = instrumentModule(parseModule(buffer), {
      memMiB: 1,
      shouldMeter: true,
      maxTableElements: 1000,
      shouldExportOutOfFuel: true,
    });
    if (!instrumented.ok) throw new Error(instrumented.message);
    const resumable = makeResumable(instrumented.bytes);
    const imports = WebAssembly.Module.imports(new WebAssembly.Module(resumable));
    expect(imports.map((i) => `${i.module}.${i.name}`)).toContain(
      `${yieldImport.module}.${yieldImport.name}`,
    );
  });
});
