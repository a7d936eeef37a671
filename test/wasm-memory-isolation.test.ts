// Pooled memories (memory-pool.ts) never carry one task's bytes to the next: an ordinary task's
// memory is reused by the next launch on its thread, so each way a task can leave it dirty is
// followed, on the same thread, by a task of the same memory shape that reads all of it.
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/lib/index.js';
import { createWasmDriver, type TaskSpec } from '../src/runtime/index.js';
import { wasmTaskSpec } from '../wasm-tasks/fixtures.js';

// One thread: every task runs where the previous one gave its memory back.
const driver = createWasmDriver({ logger: silentLogger(), poolSize: 1 });
afterAll(() => driver.close());

let n = 0;
function spec(module: string, args: string[] = []): TaskSpec {
  n += 1;
  return wasmTaskSpec({ module, taskId: `isolation-${module}-${n}`, args });
}

async function runToExit(s: TaskSpec) {
  await driver.start(s).catch(() => undefined); // a trap while instantiating is an exit too
  const exit = await driver.wait(s.taskId);
  await driver.destroy(s.taskId);
  return exit;
}

/** The snoop's verdict: TASK_FINISHED when its memory was all zero and 2 pages long. */
async function snoop() {
  return runToExit(spec('memory-snoop'));
}

describe('wasm memory isolation between tasks on one thread', () => {
  it('a task that returned leaves no byte behind', async () => {
    expect((await runToExit(spec('memory-dirty'))).state).toBe('TASK_FINISHED');
    expect(await snoop()).toMatchObject({ state: 'TASK_FINISHED' });
  });

  it('a task that trapped leaves no byte behind', async () => {
    expect(await runToExit(spec('memory-dirty', ['trap']))).toMatchObject({ reason: 'TRAP' });
    expect(await snoop()).toMatchObject({ state: 'TASK_FINISHED' });
  });

  it('a task that called proc_exit leaves no byte behind', async () => {
    expect(await runToExit(spec('memory-dirty', ['exit', '7']))).toMatchObject({ exitCode: 7 });
    expect(await snoop()).toMatchObject({ state: 'TASK_FINISHED' });
  });

  it('a task that grew its memory leaves neither its bytes nor its size behind', async () => {
    expect((await runToExit(spec('memory-dirty', ['grow', 'it', 'now']))).state).toBe(
      'TASK_FINISHED',
    );
    expect(await snoop()).toMatchObject({ state: 'TASK_FINISHED' });
  });

  it('data segments written before a trap in instantiation leave no byte behind', async () => {
    expect(await runToExit(spec('memory-dirty-segments'))).toMatchObject({ reason: 'TRAP' });
    expect(await snoop()).toMatchObject({ state: 'TASK_FINISHED' });
  });

  it('many alternating launches never see a byte of another', async () => {
    for (let i = 0; i < 20; i++) {
      await runToExit(spec('memory-dirty', i % 2 === 0 ? [] : ['trap']));
      expect(await snoop()).toMatchObject({ state: 'TASK_FINISHED' });
    }
  });
});
