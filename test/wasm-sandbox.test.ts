// The Wasm driver against the adversarial wasm-tasks: each maps to its failure code, and the
// WASI host keeps files inside the sandbox.
import { copyFileSync, existsSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/lib/index.js';
import { createWasmDriver, TaskStartError, type TaskSpec } from '../src/runtime/index.js';
import { wasmTaskPath, wasmTaskSpec } from '../wasm-tasks/fixtures.js';

const driver = createWasmDriver({ logger: silentLogger(), poolSize: 2, defaultFuel: 5_000_000n });
afterAll(() => driver.close());

let n = 0;
function spec(module: string, overrides: Partial<TaskSpec> & { args?: string[] } = {}): TaskSpec {
  n += 1;
  return wasmTaskSpec({ module, taskId: `sandbox-${module}-${n}`, ...overrides });
}

async function runToExit(s: TaskSpec) {
  await driver.start(s);
  const exit = await driver.wait(s.taskId);
  await driver.destroy(s.taskId);
  return exit;
}

async function startError(s: TaskSpec): Promise<TaskStartError> {
  const error: unknown = await driver.start(s).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TaskStartError);
  return error as TaskStartError;
}

describe('wasm sandbox', () => {
  it('ends an infinite loop with OUT_OF_FUEL and reports the budget as used', async () => {
    const exit = await runToExit(spec('loop'));
    expect(exit).toMatchObject({
      state: 'TASK_FAILED',
      reason: 'OUT_OF_FUEL',
      fuelUsed: 5_000_000,
    });
    expect(exit.message).toMatch(/^OUT_OF_FUEL: /);
  });

  it('takes the budget from limits.fuel', async () => {
    const exit = await runToExit(
      spec('loop', {
        limits: { cpus: 0.1, memMiB: 16, diskMiB: 16, killGracePeriodMs: 0, fuel: 1000n },
      }),
    );
    expect(exit).toMatchObject({ reason: 'OUT_OF_FUEL', fuelUsed: 1000 });
  });

  it('ends an infinite loop with TIMEOUT past limits.timeoutMs when fuel lasts', async () => {
    const limits = {
      cpus: 0.1,
      memMiB: 16,
      diskMiB: 16,
      killGracePeriodMs: 0,
      timeoutMs: 200,
      fuel: 10n ** 15n,
    };
    const exit = await runToExit(spec('loop', { limits }));
    expect(exit).toMatchObject({ state: 'TASK_FAILED', reason: 'TIMEOUT' });
    expect(exit.message).toMatch(/^TIMEOUT: /);
  });

  it('ends a memory bomb with MEMORY_LIMIT', async () => {
    const exit = await runToExit(spec('memory-bomb'));
    expect(exit).toMatchObject({ state: 'TASK_FAILED', reason: 'MEMORY_LIMIT' });
    expect(exit.message).toMatch(/^MEMORY_LIMIT: .*16 MiB/);
  });

  it('refuses a module declaring more memory than mem with MEMORY_LIMIT before it runs', async () => {
    expect((await startError(spec('huge-memory'))).reason).toBe('MEMORY_LIMIT');
  });

  it('refuses ten tables of a million elements against mem 1 with MEMORY_LIMIT', async () => {
    // 80 MB of table memory in a module of about a hundred bytes (issue 11, row 7).
    const limits = { cpus: 0.1, memMiB: 1, diskMiB: 16, killGracePeriodMs: 0 };
    const error = await startError(spec('table-bomb', { limits }));
    expect(error.reason).toBe('MEMORY_LIMIT');
    expect(error.message).toMatch(/10000000 table elements/);
  });

  it('refuses table growth past mem and reports MEMORY_LIMIT', async () => {
    const limits = { cpus: 0.1, memMiB: 4, diskMiB: 16, killGracePeriodMs: 0 };
    const exit = await runToExit(spec('table-grow-bomb', { limits }));
    expect(exit).toMatchObject({ state: 'TASK_FAILED', reason: 'MEMORY_LIMIT', exitCode: 1 });
  });

  it('ends unbounded recursion with TRAP', async () => {
    const exit = await runToExit(spec('recursion'));
    expect(exit).toMatchObject({ state: 'TASK_FAILED', reason: 'TRAP' });
    expect(exit.message).toMatch(/^TRAP: .*stack/i);
  });

  it('ends a division by zero with TRAP and the trap text', async () => {
    const exit = await runToExit(spec('div-zero'));
    expect(exit).toMatchObject({ state: 'TASK_FAILED', reason: 'TRAP' });
    expect(exit.message).toMatch(/^TRAP: .*divi/i);
  });

  it('refuses an import outside WASI preview 1 with FORBIDDEN_IMPORT', async () => {
    const error = await startError(spec('forbidden-import'));
    expect(error.reason).toBe('FORBIDDEN_IMPORT');
    expect(error.message).toMatch(/^FORBIDDEN_IMPORT: .*env\.system/);
  });

  it('refuses garbage bytes with INVALID_MODULE', async () => {
    expect((await startError(spec('garbage'))).reason).toBe('INVALID_MODULE');
  });

  it('reports a non-zero proc_exit as NONZERO_EXIT with the code and forwards stderr', async () => {
    const lines: string[] = [];
    const exit = await runToExit(
      spec('exit-code', { onLog: (stream, line) => lines.push(`${stream}:${line}`) }),
    );
    expect(exit).toMatchObject({ state: 'TASK_FAILED', reason: 'NONZERO_EXIT', exitCode: 3 });
    expect(lines).toEqual(['stderr:exiting']);
  });

  it('passes args and env to the module (argv[0] is the module file)', async () => {
    const lines: string[] = [];
    const onLog = (_: string, line: string) => lines.push(line);
    await runToExit(spec('hello', { env: { NAME: 'env-name' }, onLog }));
    await runToExit(spec('hello', { args: ['arg-name'], env: { NAME: 'env-name' }, onLog }));
    expect(lines).toEqual(['hello env-name', 'hello arg-name']);
  });

  it('refuses every path that leaves the sandbox and allows one inside', async () => {
    const s = spec('escape');
    const outside = mkdtempSync(join(tmpdir(), 'pacer-outside-'));
    writeFileSync(join(outside, 'passwd'), 'secret');
    symlinkSync(outside, join(s.sandboxDir, 'link'));
    const lines: string[] = [];
    const exit = await runToExit({ ...s, onLog: (_, line) => lines.push(line) });
    expect(exit.state).toBe('TASK_FINISHED');
    expect(lines).toEqual([
      '../outside.txt refused',
      '/etc/passwd refused',
      'link/passwd refused',
      'sub/../../outside.txt refused',
      'inside.txt ok',
      'link refused',
    ]);
    expect(existsSync(join(dirname(s.sandboxDir), 'outside.txt'))).toBe(false);
    expect(existsSync(join(s.sandboxDir, 'inside.txt'))).toBe(true);
  });

  it('uses exactly the same fuel on every run of the same module and input', async () => {
    const used = [];
    for (let i = 0; i < 3; i++)
      used.push((await runToExit(spec('hello', { args: ['same'] }))).fuelUsed);
    expect(used[0]).toBeGreaterThan(0);
    expect(new Set(used).size).toBe(1);
  });

  it('runs the new bytes when a cached module file is rewritten in place', async () => {
    const first = spec('hello');
    expect((await runToExit(first)).state).toBe('TASK_FINISHED');
    copyFileSync(wasmTaskPath('exit-code'), join(first.sandboxDir, 'hello.wasm'));
    const again = spec('hello', { sandboxDir: first.sandboxDir });
    expect(await runToExit(again)).toMatchObject({ reason: 'NONZERO_EXIT', exitCode: 3 });
  });

  it('kills a tight loop on stop and keeps serving tasks afterwards', async () => {
    const limits = { cpus: 0.1, memMiB: 16, diskMiB: 16, killGracePeriodMs: 0, fuel: 10n ** 15n };
    const s = spec('loop', { limits });
    await driver.start(s);
    await driver.stop(s.taskId);
    expect(await driver.wait(s.taskId)).toMatchObject({ state: 'TASK_KILLED', reason: 'KILLED' });
    expect((await runToExit(spec('hello'))).state).toBe('TASK_FINISHED');
  });
});
