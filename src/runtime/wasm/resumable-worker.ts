// Worker thread entry: runs binaryen's Asyncify (resumable-module.ts) off the agent's main thread.
// Loading binaryen (15 MB of JS and Wasm) and compiling it takes seconds: done once, here.
import { parentPort } from 'node:worker_threads';
import binaryen from 'binaryen';
import { outOfFuelExport } from './instrument-module.js';
import { makeResumable } from './resumable-module.js';
import type { TransformReply, TransformRequest } from './resumable-transformer.js';

const port = parentPort;
if (!port) throw new Error('resumable-worker must run in a worker thread');

/**
 * A tiny module shaped like an instrumented sleeper, transformed once at start: V8 compiles the
 * parts of binaryen that a transform uses now, not during the first task's launch.
 */
function warmUp(): void {
  const text = `(module
    (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1 2)
    (func $fuel (export "${outOfFuelExport}") (unreachable))
    (func (export "_start") (loop $l (call $fuel)
      (drop (call $poll (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))) (br $l))))`;
  const module = binaryen.parseText(text);
  let bytes: Uint8Array;
  try {
    bytes = module.emitBinary();
  } finally {
    module.dispose();
  }
  makeResumable(bytes);
}

warmUp();
port.postMessage({ type: 'ready' } satisfies TransformReply);
port.on('message', (request: TransformRequest) => {
  try {
    const bytes = makeResumable(request.bytes);
    port.postMessage({ type: 'done', id: request.id, bytes } satisfies TransformReply, [
      bytes.buffer as ArrayBuffer,
    ]);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    port.postMessage({ type: 'failed', id: request.id, message } satisfies TransformReply);
  }
});
