// Binaryen's helper process lives only while it has work: it starts on the first transform
// (nothing before), runs below the agent's priority, exits once idle past its limit, and the next
// transform starts a new one.
import wabtInit from 'wabt';
import { afterAll, describe, expect, it } from 'vitest';
import { niceOf } from '../../../test/support/thread-nice.js';
import { waitFor } from '../../../test/support/wait-for.js';
import { instrumentModule } from './instrument-module.js';
import { parseModule } from './parse-module.js';
import {
  IDLE_EXIT_MS,
  resumableHelperPid,
  resumableTransformer,
  setResumableIdleExitMs,
} from './resumable-transformer.js';
import { TASK_THREAD_NICE_STEPS } from './thread-priority.js';

const sleeper = `(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (drop (call $poll (i32.const 256) (i32.const 320) (i32.const 1) (i32.const 16)))))`;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function instrumentedSleeper(): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const parsed = wabt.parseWat('sleeper.wat', sleeper);
  const { buffer } = parsed.toBinary({});
  parsed.destroy();
  const instrumented = instrumentModule(parseModule(buffer), {
    memMiB: 1,
    shouldMeter: true,
    maxTableElements: 1000,
    shouldExportOutOfFuel: true,
  });
  if (!instrumented.ok) throw new Error(instrumented.message);
  return instrumented.bytes;
}

describe('the Asyncify helper process', () => {
  afterAll(() => setResumableIdleExitMs(IDLE_EXIT_MS));

  it("starts on the first transform, below the agent's priority, exits when idle, and starts again when needed", async () => {
    expect(resumableHelperPid()).toBeUndefined(); // nothing starts it at import
    setResumableIdleExitMs(300);
    const bytes = await instrumentedSleeper();

    const first = await resumableTransformer.transform(bytes);
    expect(first.byteLength).toBeGreaterThan(bytes.byteLength);
    const pid = resumableHelperPid() as number;
    expect(isAlive(pid)).toBe(true);
    // Binaryen runs on a module Pacer did not write: below the agent's priority, as tasks do.
    const agentNice = (await niceOf(`/proc/${process.pid}/stat`)) as number;
    expect(await niceOf(`/proc/${pid}/stat`)).toBe(
      Math.min(19, agentNice + TASK_THREAD_NICE_STEPS),
    );
    await waitFor('the idle helper to exit', () => !isAlive(pid) && !resumableHelperPid(), {
      timeoutMs: 10_000,
    });

    const again = await resumableTransformer.transform(bytes);
    expect(again).toEqual(first);
    expect(resumableHelperPid()).not.toBe(pid);
  }, 120_000);
});
