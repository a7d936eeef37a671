// A resident task tells of its start before its first slice runs: the slice takes its turn in
// the thread's scheduler, so a guest whose first slice is long (or a batch of tasks started
// together) no longer holds `started` back. A handler request still runs at once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import wabtInit from 'wabt';
import { afterEach, describe, expect, it } from 'vitest';
import { instrumentModule } from './instrument-module.js';
import { parseModule } from './parse-module.js';
import { startResidentTask } from './resident-task.js';
import { makeResumable } from './resumable-module.js';
import type { SliceScheduler } from './slice-scheduler.js';
import { CONTROL_BYTES, type RunRequest, type WorkerEvent } from './worker-messages.js';

/** Writes "hello\n" to stdout, then returns. */
const hello = `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "hello\\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 6))
    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))))`;

async function resumableHello(): Promise<WebAssembly.Module> {
  const wabt = await wabtInit();
  const parsed = wabt.parseWat('hello.wat', hello);
  const { buffer } = parsed.toBinary({});
  parsed.destroy();
  const instrumented = instrumentModule(parseModule(buffer), {
    memMiB: 1,
    shouldMeter: true,
    maxTableElements: 1000,
    shouldExportOutOfFuel: true,
  });
  if (!instrumented.ok) throw new Error(instrumented.message);
  return new WebAssembly.Module(makeResumable(instrumented.bytes));
}

/** A scheduler that only records the turns it is given; the test runs them. */
function recordingScheduler(): SliceScheduler & { queued: (() => void)[] } {
  const queued: (() => void)[] = [];
  return {
    queued,
    register: () => undefined,
    ready: (_taskId, run) => void queued.push(run),
    forget: () => undefined,
    usedMs: () => 0,
  };
}

describe('a resident task started', () => {
  let sandboxDir: string | undefined;
  afterEach(() => {
    if (sandboxDir) rmSync(sandboxDir, { recursive: true, force: true });
  });

  function start(module: WebAssembly.Module, extra: Partial<RunRequest> = {}) {
    sandboxDir = mkdtempSync(path.join(tmpdir(), 'pacer-resident-'));
    const posted: WorkerEvent[] = [];
    const scheduler = recordingScheduler();
    startResidentTask({
      request: {
        type: 'run',
        taskId: 'task-1',
        moduleKey: 'hello',
        args: ['hello.wasm'],
        env: {},
        sandboxDir,
        maxLogLineBytes: 1024,
        diskQuotaBytes: 1024 * 1024,
        control: new SharedArrayBuffer(CONTROL_BYTES),
        isResumable: true,
        fuelSlice: 1_000_000n,
        fuelBudget: 1_000_000_000n,
        ...extra,
      },
      module,
      post: (event) => posted.push(event),
      outcomeOf: (error) => ({ kind: 'trap', message: String(error) }),
      scheduler,
    });
    return { posted, scheduler };
  }

  it('posts started before its first slice, which waits for its turn in the scheduler', async () => {
    const { posted, scheduler } = start(await resumableHello());
    expect(posted.map((event) => event.type)).toEqual(['started']);
    expect(scheduler.queued).toHaveLength(1);
    scheduler.queued.shift()?.();
    expect(posted.map((event) => event.type)).toEqual(['started', 'log', 'exit']);
  });

  it('runs a handler request (its stdout captured) at once, without started', async () => {
    const { posted, scheduler } = start(await resumableHello(), { captureStdoutBytes: 1024 });
    expect(scheduler.queued).toHaveLength(0);
    expect(posted.map((event) => event.type)).toEqual(['exit']);
  });
});
