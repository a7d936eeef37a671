// Child process entry: runs binaryen's Asyncify (resumable-module.ts) outside the agent, with
// V8's baseline tier only (resumable-transformer.ts says why). Loads binaryen once, then serves
// transform requests over the IPC channel until the agent goes away.
import binaryen from 'binaryen';
import { instrumentModule } from './instrument-module.js';
import { parseModule } from './parse-module.js';
import { makeResumable } from './resumable-module.js';
import type { TransformReply, TransformRequest } from './resumable-transformer.js';
import { lowerThreadPriority } from './thread-priority.js';

const send = process.send?.bind(process);
if (!send) throw new Error('resumable-worker must run as a child process with an IPC channel');
// Binaryen runs on this thread, over a module Pacer did not write: below the agent, as tasks are.
lowerThreadPriority();

/**
 * A sleeper like the ones agents run (prints, sleeps, loops), put through the same rewriter as a
 * task's module and transformed once at start: binaryen's functions are compiled as they are
 * first used, and this way that happens before the first launch, not during it.
 */
function warmUp(): void {
  const text = `(module
    (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 64) "tick")
    (func $digits (param $v i32) (result i32) (local $n i32)
      (loop $l
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (i32.store8 (i32.sub (i32.const 100) (local.get $n))
          (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
        (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
        (br_if $l (local.get $v)))
      (local.get $n))
    (func (export "_start") (local $i i32)
      (i64.store (i32.const 280) (i64.const 1000000))
      (block $done
        (loop $forever
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (i32.store (i32.const 132) (call $digits (local.get $i)))
          (drop (call $write (i32.const 1) (i32.const 128) (i32.const 1) (i32.const 16)))
          (drop (call $poll (i32.const 256) (i32.const 320) (i32.const 1) (i32.const 16)))
          (br_if $done (i32.eq (memory.grow (i32.const 0)) (i32.const -1)))
          (br $forever)))))`;
  const module = binaryen.parseText(text);
  let bytes: Uint8Array;
  try {
    bytes = module.emitBinary();
  } finally {
    module.dispose();
  }
  const instrumented = instrumentModule(parseModule(bytes), {
    memMiB: 1,
    shouldMeter: true,
    maxTableElements: 1000,
    shouldExportOutOfFuel: true,
  });
  if (!instrumented.ok) throw new Error(`warm-up module refused: ${instrumented.message}`);
  makeResumable(instrumented.bytes);
}

// The agent is gone (exit, crash, SIGKILL): nothing is left to serve.
process.on('disconnect', () => process.exit(0));
try {
  warmUp();
} catch (error) {
  // A warm-up binaryen refuses must not leave the agent waiting for `ready` forever: real
  // transforms still answer one by one (a refusal runs that module the ordinary way).
  process.stderr.write(`resumable-worker: warm-up failed: ${String(error)}\n`);
}
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
