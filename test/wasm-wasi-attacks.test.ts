// Hostile modules against the WASI host through the Wasm driver (issue 11, rows 6 and 9): one
// task's host calls cannot fail its neighbours on a shared thread or write past its quota.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/lib/index.js';
import { createWasmDriver, type TaskSpec } from '../src/runtime/index.js';
import { resumableReady } from '../src/runtime/wasm/index.js';
import { Errno } from '../src/runtime/wasm/wasi-errno.js';
import { wasmTaskSpec } from '../wasm-tasks/fixtures.js';

// One shared thread: every resident task of this driver runs on it.
const driver = createWasmDriver({ logger: silentLogger(), poolSize: 1 });
afterAll(() => driver.close());

let n = 0;
function spec(module: string, overrides: Partial<TaskSpec> = {}): TaskSpec {
  n += 1;
  return wasmTaskSpec({ module, taskId: `wasi-attack-${module}-${n}`, ...overrides });
}

describe('WASI host under attack', () => {
  // Modules launched before binaryen has loaded run in threads of their own: wait for it.
  beforeAll(() => resumableReady(), 120_000);

  it('answers one fd_write of 8 M iovecs with EINVAL and its neighbour on the thread finishes', async () => {
    const neighbour = spec('count-sleep');
    const lines: string[] = [];
    const attacker = spec('iovec-flood', {
      limits: { cpus: 0.1, memMiB: 128, diskMiB: 16, killGracePeriodMs: 0, fuel: 10n ** 10n },
      onLog: (_, line) => lines.push(line),
    });
    await driver.start(neighbour);
    await driver.start(attacker);
    const [neighbourExit, attackerExit] = await Promise.all([
      driver.wait(neighbour.taskId),
      driver.wait(attacker.taskId),
    ]);
    await Promise.all([driver.destroy(neighbour.taskId), driver.destroy(attacker.taskId)]);
    expect(attackerExit).toMatchObject({
      state: 'TASK_FAILED',
      reason: 'NONZERO_EXIT',
      exitCode: Errno.INVAL,
    });
    expect(lines).toEqual([]);
    expect(neighbourExit).toMatchObject({ state: 'TASK_FINISHED' });
  }, 120_000);

  it('refuses fd_pwrite at offset -1 (EINVAL) and at 2^62 (EFBIG) without writing', async () => {
    const s = spec('pwrite-far');
    await driver.start(s);
    const exit = await driver.wait(s.taskId);
    await driver.destroy(s.taskId);
    expect(exit.exitCode).toBe(100 * Errno.INVAL + Errno.FBIG);
    const file = statSync(join(s.sandboxDir, 'far.bin'));
    expect([file.size, file.blocks]).toEqual([0, 0]);
  });
});
