// The Wasm driver making a task's sandbox itself (TaskSpec.sandboxFiles): not at all for a task
// that never reaches a file, and before the first call that may, with copies of its fetched
// files that count against its disk.
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/lib/index.js';
import { createWasmDriver, type SandboxFile, type TaskSpec } from '../src/runtime/index.js';
import { wasmTaskPath, wasmTaskSpec } from '../wasm-tasks/fixtures.js';

const driver = createWasmDriver({ logger: silentLogger(), poolSize: 2, defaultFuel: 50_000_000n });
afterAll(() => driver.close());

let n = 0;
/** A spec whose sandbox does not exist yet: the driver makes it with `extra` and the module. */
function lazySpec(module: string, extra: SandboxFile[] = [], overrides: Partial<TaskSpec> = {}) {
  n += 1;
  const sandboxDir = join(mkdtempSync(join(tmpdir(), 'pacer-lazy-')), `task-${n}`);
  const files = [{ name: `${module}.wasm`, from: wasmTaskPath(module), isExecutable: false }];
  return wasmTaskSpec({
    module,
    taskId: `lazy-${module}-${n}`,
    sandboxDir,
    sandboxFiles: [...files, ...extra],
    ...overrides,
  });
}

/** A file outside any sandbox, as the agent's artifact cache holds one. */
function cachedFile(bytes: Buffer): string {
  const file = join(mkdtempSync(join(tmpdir(), 'pacer-cache-')), 'artifact');
  writeFileSync(file, bytes);
  return file;
}

async function linesOf(s: TaskSpec): Promise<string[]> {
  const lines: string[] = [];
  await driver.start({ ...s, onLog: (_, line) => lines.push(line) });
  expect((await driver.wait(s.taskId)).state).toBe('TASK_FINISHED');
  await driver.destroy(s.taskId);
  return lines;
}

describe('a sandbox the Wasm driver makes', () => {
  it('is never made for a task that does not reach a file, pooled or resident', async () => {
    const hello = lazySpec('hello');
    expect(await linesOf(hello)).toContain('hello world');
    expect(existsSync(hello.sandboxDir)).toBe(false);

    // As every wasi-libc program does at start: asking for the preopen's name reaches no file.
    const prestat = lazySpec('prestat');
    expect(await linesOf(prestat)).toEqual(['/']);
    expect(existsSync(prestat.sandboxDir)).toBe(false);

    const service = lazySpec('service', [], { args: ['60000'] });
    let ticked: () => void = () => undefined;
    const tick = new Promise<void>((resolve) => (ticked = resolve));
    await driver.start({ ...service, onLog: (_, line) => line === 'tick 1' && ticked() });
    await tick;
    expect(existsSync(service.sandboxDir)).toBe(false);
    await driver.destroy(service.taskId);
  });

  it('holds copies of the fetched files before the first call that reaches one', async () => {
    const source = cachedFile(Buffer.from('fetched bytes'));
    const s = lazySpec('escape', [{ name: 'data.txt', from: source, isExecutable: true }]);
    const lines = await linesOf(s);
    // The boundary is the same as in a sandbox made before the start.
    expect(lines).toContain('../outside.txt refused');
    expect(lines).toContain('/etc/passwd refused');
    expect(lines).toContain('inside.txt ok');
    const copy = join(s.sandboxDir, 'data.txt');
    expect(readFileSync(copy, 'utf8')).toBe('fetched bytes');
    // A copy, not a link: the task writing to it would not change the cached artifact.
    expect(statSync(copy).ino).not.toBe(statSync(source).ino);
    expect(statSync(copy).mode & 0o777).toBe(0o755);
    expect(existsSync(join(s.sandboxDir, 'escape.wasm'))).toBe(true);
  });

  it('counts the fetched files against the task disk', async () => {
    const limits = { cpus: 0.1, memMiB: 16, diskMiB: 1, killGracePeriodMs: 0 };
    const big = cachedFile(Buffer.alloc(1024 * 1024 - 4096, 1));
    const s = lazySpec('escape', [{ name: 'big.bin', from: big, isExecutable: false }], { limits });
    expect(await linesOf(s)).toContain('inside.txt refused');
  });
});
