// Child process entry: runs binaryen's Asyncify (resumable-module.ts) outside the agent, with
// V8's default tiers (resumable-transformer.ts says why). Loads binaryen once, then serves
// transform requests over the IPC channel until the agent goes away.
import binaryen from 'binaryen';
import { outOfFuelExport } from './instrument-module.js';
import { makeResumable } from './resumable-module.js';
import type { TransformReply, TransformRequest } from './resumable-transformer.js';

const send = process.send?.bind(process);
if (!send) throw new Error('resumable-worker must run as a child process with an IPC channel');

/**
 * A tiny module shaped like an instrumented sleeper, transformed once at start: the parts of
 * binaryen that a transform uses are compiled now, not during the first task's launch.
 */
function warmUp(): void {
  const text = `(module
    (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1 2)
    (global $fuel (mut i64) (i64.const 1000))
    (func $out (export "${outOfFuelExport}") (unreachable))
    (func (export "_start") (local $n i32)
      (loop $l
        (global.set $fuel (i64.sub (global.get $fuel) (i64.const 3)))
        (if (i64.lt_s (global.get $fuel) (i64.const 0)) (then (call $out)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (drop (call $poll (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)))
        (br_if $l (i32.lt_u (local.get $n) (i32.const 10)))))
  )`;
  const module = binaryen.parseText(text);
  let bytes: Uint8Array;
  try {
    bytes = module.emitBinary();
  } finally {
    module.dispose();
  }
  makeResumable(bytes);
}

// The agent is gone (exit, crash, SIGKILL): nothing is left to serve.
process.on('disconnect', () => process.exit(0));
warmUp();
send({ type: 'ready' } satisfies TransformReply);
process.on('message', (request: TransformRequest) => {
  let reply: TransformReply;
  try {
    reply = { type: 'done', id: request.id, bytes: makeResumable(request.bytes) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    reply = { type: 'failed', id: request.id, message };
  }
  send(reply);
});
