// Runs the TaskDriver conformance suite against the Wasm driver (real modules from wasm-tasks/)
// and against the mock driver.
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../src/lib/index.js';
import { createWasmDriver } from '../src/runtime/index.js';
import { createMockDriver, MockLabels } from '../src/runtime/mock/index.js';
import { TASK_THREAD_NICE_STEPS } from '../src/runtime/wasm/thread-priority.js';
import { collectEveryRuns } from '../src/runtime/wasm/worker-pool.js';
import { wasmTaskSpec } from '../wasm-tasks/fixtures.js';
import { describeDriverConformance } from './support/driver-conformance.js';
import { threadNices } from './support/thread-nice.js';

describeDriverConformance('wasm', {
  create: () => createWasmDriver({ logger: silentLogger(), poolSize: 2 }),
  fixtures: {
    printsHelloAndExits0: ({ taskId, onLog }) => wasmTaskSpec({ module: 'hello', taskId, onLog }),
    exits3: ({ taskId, onLog }) => wasmTaskSpec({ module: 'exit-code', taskId, onLog }),
    runsForever: ({ taskId, onLog }) => wasmTaskSpec({ module: 'service', taskId, onLog }),
  },
});

const mockSpec = (
  taskId: string,
  onLog: (s: 'stdout' | 'stderr', l: string) => void,
  labels: Record<string, string>,
) => ({
  taskId,
  kind: 'wasm' as const,
  sandboxDir: '/nonexistent',
  cmd: 'mock.wasm',
  env: {},
  limits: { cpus: 0.1, memMiB: 16, diskMiB: 16, killGracePeriodMs: 0 },
  ports: [],
  labels,
  onLog,
});

describeDriverConformance('mock', {
  create: () => createMockDriver(),
  fixtures: {
    printsHelloAndExits0: ({ taskId, onLog }) =>
      mockSpec(taskId, onLog, { [MockLabels.log]: 'hello', [MockLabels.exitAfterMs]: '1' }),
    exits3: ({ taskId, onLog }) =>
      mockSpec(taskId, onLog, { [MockLabels.exitAfterMs]: '1', [MockLabels.exitCode]: '3' }),
    runsForever: ({ taskId, onLog }) => mockSpec(taskId, onLog, {}),
  },
});

describe('wasm driver, thread priority', () => {
  it("runs tasks on threads below the agent's own priority, and leaves the agent's thread as it was", async () => {
    const before = await threadNices();
    const mainNice = before.get(process.pid) as number;
    const driver = createWasmDriver({ logger: silentLogger(), poolSize: 1 });
    try {
      const spec = wasmTaskSpec({ module: 'service', taskId: 'nice' });
      await driver.start(spec);
      const lowered = [...(await threadNices()).entries()].filter(
        ([tid, nice]) =>
          !before.has(tid) && nice === Math.min(19, mainNice + TASK_THREAD_NICE_STEPS),
      );
      expect(lowered.length).toBeGreaterThan(0);
      expect((await threadNices()).get(process.pid)).toBe(mainNice);
      await driver.stop(spec.taskId);
    } finally {
      await driver.close();
    }
  });
});

describe('wasm driver, many launches in a row', () => {
  it('keeps running tasks while its workers collect garbage between them (collectEveryRuns)', async () => {
    // A worker that fails a collection crashes; the pool would replace it quietly but for the
    // warning, so the warnings are the proof that every collection went through.
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
    const driver = createWasmDriver({ logger, poolSize: 2 });
    try {
      const sandbox = wasmTaskSpec({ module: 'hello', taskId: 'gc' }).sandboxDir;
      // Enough tasks for each worker to be asked to collect at least once.
      for (let i = 0; i < 3 * collectEveryRuns; i++) {
        const lines: string[] = [];
        const spec = wasmTaskSpec({
          module: 'hello',
          taskId: `gc-${i}`,
          sandboxDir: sandbox,
          onLog: (_stream, line) => lines.push(line),
        });
        await driver.start(spec);
        expect((await driver.wait(spec.taskId)).state).toBe('TASK_FINISHED');
        expect(lines.join('\n')).toMatch(/hello/i);
        await driver.destroy(spec.taskId);
      }
      expect(warnings).toEqual([]);
    } finally {
      await driver.close();
    }
  });
});

describe('wasm driver, modules the agent copied from its artifact cache', () => {
  it("takes a fetched file's digest from the spec instead of reading and hashing the file", async () => {
    const driver = createWasmDriver({ logger: silentLogger(), poolSize: 1 });
    try {
      const first = wasmTaskSpec({ module: 'hello', taskId: 'digest-1' });
      const digest = createHash('sha256')
        .update(await readFile(path.join(first.sandboxDir, 'hello.wasm')))
        .digest('hex');
      await driver.start(first);
      expect((await driver.wait(first.taskId)).state).toBe('TASK_FINISHED');
      await driver.destroy(first.taskId);
      // The file is not read: bytes that would not even parse do not stop the launch.
      const second = wasmTaskSpec({ module: 'hello', taskId: 'digest-2' });
      await writeFile(path.join(second.sandboxDir, 'hello.wasm'), 'not a module');
      const lines: string[] = [];
      await driver.start({
        ...second,
        fileDigests: { 'hello.wasm': digest },
        onLog: (_stream, line) => lines.push(line),
      });
      expect((await driver.wait(second.taskId)).state).toBe('TASK_FINISHED');
      expect(lines.join('\n')).toMatch(/hello/i);
      await driver.destroy(second.taskId);
      // Without the digest the file is read, and found not to be a module.
      const third = wasmTaskSpec({ module: 'hello', taskId: 'digest-3' });
      await writeFile(path.join(third.sandboxDir, 'hello.wasm'), 'not a module');
      await expect(driver.start(third)).rejects.toMatchObject({ reason: 'INVALID_MODULE' });
    } finally {
      await driver.close();
    }
  });
});
