// Resident tasks (sleeping modules made resumable, many per shared worker thread): fuel slices
// keep a CPU hog from starving its neighbours, fuel stays exact under slicing, and kill and
// timeout end one task without ending the others on its thread.
import { beforeAll, afterAll, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../src/lib/index.js';
import { createWasmDriver, type TaskDriver, type TaskSpec } from '../src/runtime/index.js';
import { resumableReady } from '../src/runtime/wasm/index.js';
import { sandboxWith, wasmTaskSpec } from '../wasm-tasks/fixtures.js';

// One shared thread, so every resident task of a driver is on the same thread.
const fuelSlice = 1_000_000n;
const driver = createWasmDriver({ logger: silentLogger(), poolSize: 1, fuelSlice });
const unsliced = createWasmDriver({ logger: silentLogger(), poolSize: 1, fuelSlice: 10n ** 18n });
const tinySlices = createWasmDriver({ logger: silentLogger(), poolSize: 1, fuelSlice: 1000n });
afterAll(() => Promise.all([driver.close(), unsliced.close(), tinySlices.close()]));

const sandboxes = new Map<string, string>();
let n = 0;
function spec(module: string, overrides: Partial<TaskSpec> & { args?: string[] } = {}): TaskSpec {
  n += 1;
  let sandboxDir = sandboxes.get(module);
  if (!sandboxDir) sandboxes.set(module, (sandboxDir = sandboxWith(module)));
  return wasmTaskSpec({ module, taskId: `resident-${module}-${n}`, sandboxDir, ...overrides });
}

/** A service task printing every `sleepMs`, with the times its lines arrived. */
function ticking(sleepMs: number): { spec: TaskSpec; ticks: number[] } {
  const ticks: number[] = [];
  const s = spec('service', {
    args: [String(sleepMs)],
    onLog: (stream) => void (stream === 'stdout' && ticks.push(performance.now())),
  });
  return { spec: s, ticks };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function largestGapMs(times: number[], from: number): number {
  let gap = 0;
  let last = from;
  for (const t of times.filter((x) => x >= from)) {
    gap = Math.max(gap, t - last);
    last = t;
  }
  return Math.max(gap, performance.now() - last);
}

async function runToExit(on: TaskDriver, s: TaskSpec) {
  await on.start(s);
  const exit = await on.wait(s.taskId);
  await on.destroy(s.taskId);
  return exit;
}

describe('resident wasm tasks', () => {
  // Modules launched before binaryen has loaded run in threads of their own: wait for it.
  beforeAll(() => resumableReady(), 120_000);

  it('keeps a sleeping neighbour ticking while a task on its thread spins', async () => {
    const hog = spec('spin-sleeper');
    await driver.start(hog);
    const service = ticking(10);
    await driver.start(service.spec);
    await sleep(100); // the hog is past its sleep and spinning
    const from = performance.now();
    await sleep(600);
    const ticks = service.ticks.filter((t) => t >= from).length;
    // Without slices the hog would hold the thread and the service would print nothing.
    // A slice of 1M fuel is ~1 ms of guest code; the bound leaves room for a loaded machine.
    expect(ticks).toBeGreaterThanOrEqual(10);
    expect(largestGapMs(service.ticks, from)).toBeLessThan(250);
    await Promise.all([driver.destroy(hog.taskId), driver.destroy(service.spec.taskId)]);
  });

  it('uses the same fuel with tiny slices, without slices and on every run', async () => {
    const limits = { cpus: 0.1, memMiB: 16, diskMiB: 16, killGracePeriodMs: 0, fuel: 10n ** 9n };
    const runs = [
      await runToExit(unsliced, spec('count-sleep', { limits })),
      await runToExit(tinySlices, spec('count-sleep', { limits })),
      await runToExit(driver, spec('count-sleep', { limits })),
      await runToExit(tinySlices, spec('count-sleep', { limits })),
    ];
    for (const exit of runs) expect(exit.state).toBe('TASK_FINISHED');
    const fuel = runs.map((exit) => exit.fuelUsed);
    expect(fuel[0]).toBeGreaterThan(2 * 9 * 1_500_000);
    expect(new Set(fuel).size).toBe(1);
  });

  it('spends exactly the budget of a spinning resident task across slices', async () => {
    const limits = { cpus: 0.1, memMiB: 16, diskMiB: 16, killGracePeriodMs: 0, fuel: 5_500_000n };
    const exit = await runToExit(driver, spec('spin-sleeper', { limits }));
    expect(exit).toMatchObject({
      state: 'TASK_FAILED',
      reason: 'OUT_OF_FUEL',
      fuelUsed: 5_500_000,
    });
  });

  it('tells the fuel a running task used so far, resident or in a thread of its own', async () => {
    // spin-sleeper: resident, publishes at each slice's end; log-flood: a thread of its own,
    // publishes at each host call (its writes).
    for (const module of ['spin-sleeper', 'log-flood']) {
      const s = spec(module);
      await driver.start(s);
      await expect
        .poll(() => driver.fuelUsed?.(s.taskId) ?? 0, { timeout: 20_000 })
        .toBeGreaterThan(0);
      const first = driver.fuelUsed?.(s.taskId) ?? 0;
      await expect
        .poll(() => driver.fuelUsed?.(s.taskId) ?? 0, { timeout: 20_000 })
        .toBeGreaterThan(first);
      const last = driver.fuelUsed?.(s.taskId) ?? 0;
      await driver.stop(s.taskId);
      const exit = await driver.wait(s.taskId);
      // Ended: the exit carries the final figure, never less than what was told while running.
      expect(driver.fuelUsed?.(s.taskId), module).toBeUndefined();
      expect(exit.fuelUsed ?? 0, module).toBeGreaterThanOrEqual(last);
      await driver.destroy(s.taskId);
    }
    expect(driver.fuelUsed?.('no-such-task')).toBeUndefined();
  }, 60_000);

  it('kills a spinning resident task and frees its thread for the others', async () => {
    const service = ticking(10);
    await driver.start(service.spec);
    const hog = spec('spin-sleeper');
    await driver.start(hog);
    await sleep(100);
    const t0 = performance.now();
    await driver.stop(hog.taskId);
    const exit = await driver.wait(hog.taskId);
    expect(performance.now() - t0).toBeLessThan(100);
    expect(exit).toMatchObject({ state: 'TASK_KILLED', reason: 'KILLED' });
    await sleep(50); // the thread drops it at the end of its current slice
    // Only a sleeping task is left: the process is nearly idle, and the neighbour still ticks.
    const cpu0 = process.cpuUsage();
    const from = performance.now();
    await sleep(400);
    const cpu = process.cpuUsage(cpu0);
    expect((cpu.user + cpu.system) / 1000).toBeLessThan(200);
    expect(service.ticks.filter((t) => t >= from).length).toBeGreaterThanOrEqual(10);
    await driver.destroy(service.spec.taskId);
    await driver.destroy(hog.taskId);
  });

  it('kills one sleeping task and times another out, the third on the thread keeps running', async () => {
    const survivor = ticking(10);
    const killed = ticking(10);
    const timedOut = ticking(10);
    timedOut.spec.limits = { ...timedOut.spec.limits, timeoutMs: 200 };
    await Promise.all([survivor, killed, timedOut].map((t) => driver.start(t.spec)));
    await driver.stop(killed.spec.taskId);
    expect(await driver.wait(killed.spec.taskId)).toMatchObject({ state: 'TASK_KILLED' });
    const killedTicks = killed.ticks.length;
    expect(await driver.wait(timedOut.spec.taskId)).toMatchObject({
      state: 'TASK_FAILED',
      reason: 'TIMEOUT',
    });
    const from = performance.now();
    await sleep(200);
    expect(survivor.ticks.filter((t) => t >= from).length).toBeGreaterThanOrEqual(5);
    expect(killed.ticks.length).toBe(killedTicks); // nothing of a killed task is delivered
    await Promise.all([survivor, killed, timedOut].map((t) => driver.destroy(t.spec.taskId)));
  });

  it('kills a resident task in a whole-memory bulk loop; its neighbour and a new task go on', async () => {
    const service = ticking(10);
    await driver.start(service.spec);
    const hog = spec('bulk-sleeper'); // memory.fill + memory.copy of its 16 MiB, forever
    await driver.start(hog);
    // Each fill costs 2M fuel (2 slices of 1M here): the neighbour gets turns between them.
    const before = service.ticks.length;
    await vi.waitFor(() => expect(service.ticks.length).toBeGreaterThan(before + 5), {
      timeout: 20_000,
    });
    await driver.stop(hog.taskId);
    // Reported once the thread says the task stopped (slice end or between turns).
    expect(await driver.wait(hog.taskId)).toMatchObject({ state: 'TASK_KILLED', reason: 'KILLED' });
    const afterKill = service.ticks.length;
    // A task launched right after the kill is placed on the same (only) thread and finishes.
    const next = spec('count-sleep');
    expect(await runToExit(driver, next)).toMatchObject({ state: 'TASK_FINISHED' });
    await vi.waitFor(() => expect(service.ticks.length).toBeGreaterThan(afterKill + 5), {
      timeout: 20_000,
    });
    await Promise.all([driver.destroy(hog.taskId), driver.destroy(service.spec.taskId)]);
  });

  it('times out a resident task in a whole-memory bulk loop', async () => {
    const hog = spec('bulk-sleeper');
    hog.limits = { ...hog.limits, timeoutMs: 300 };
    expect(await runToExit(driver, hog)).toMatchObject({ state: 'TASK_FAILED', reason: 'TIMEOUT' });
  });

  it('charges bulk memory by its length across slices: the budget runs out exactly', async () => {
    const limits = { cpus: 0.1, memMiB: 16, diskMiB: 16, killGracePeriodMs: 0, fuel: 5_500_000n };
    // Each turn of the loop is 3M fuel of fills and copies: under 1 fuel per fill, this loop
    // would have run for hours on this budget.
    expect(await runToExit(driver, spec('bulk-sleeper', { limits }))).toMatchObject({
      state: 'TASK_FAILED',
      reason: 'OUT_OF_FUEL',
      fuelUsed: 5_500_000,
    });
  });
});
