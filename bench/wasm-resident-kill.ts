// Kill latency on a resident (shared) thread (issue 11, rule 3): stop() of a task looping in
// guest code, timed to the exit the driver reports and to the moment the thread is really free
// (a probe task placed after it on the same thread prints its first line). Each sample is capped.
import { silentLogger } from '../src/lib/index.js';
import { createWasmDriver, type TaskDriver, type TaskSpec } from '../src/runtime/index.js';
import { resumableReady } from '../src/runtime/wasm/index.js';
import { sandboxWith, wasmTaskSpec } from '../wasm-tasks/fixtures.js';
import { percentile } from './results.js';

export interface KillLatency {
  module: string;
  samples: number;
  /** Samples where the thread was not free within `capMs` (counted at `capMs` in the quantiles). */
  timeouts: number;
  capMs: number;
  /** stop() → the driver's wait() resolves. */
  exitReported: { p50Ms: number; p99Ms: number };
  /** stop() → a task placed after it on the same thread runs (its first stdout line). */
  threadFree: { p50Ms: number; p99Ms: number };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with the value, or with 'timeout' once `deadline` (performance.now()) has passed. */
async function until<T>(promise: Promise<T>, deadline: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - performance.now()));
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

const round = (x: number) => Number(x.toFixed(3));

/**
 * `samples` kills of `module` (a sleeper that then loops: it runs resident) on a driver with
 * one shared thread. A sample whose thread is not free within `capMs` counts as a timeout; the
 * driver is then closed (its threads terminated) and a new one made, and after `maxTimeouts`
 * the measurement stops: a kill that does not work must not hang the benchmark.
 */
export async function residentKillLatency(options: {
  module: string;
  samples: number;
  capMs?: number;
  maxTimeouts?: number;
}): Promise<KillLatency> {
  const capMs = options.capMs ?? 10_000;
  const maxTimeouts = options.maxTimeouts ?? 3;
  await resumableReady();
  const newDriver = () =>
    createWasmDriver({ logger: silentLogger(), poolSize: 1, defaultFuel: 10n ** 15n });
  let driver: TaskDriver = newDriver();
  const sandboxDir = sandboxWith(options.module);
  const probeSandbox = sandboxWith('service');
  const limits = { cpus: 0.1, memMiB: 16, diskMiB: 16, killGracePeriodMs: 0 };
  let seq = 0;
  const spec = (module: string, dir: string, extra: Partial<TaskSpec> = {}) =>
    wasmTaskSpec({
      module,
      taskId: `kill-${module}-${++seq}`,
      sandboxDir: dir,
      limits,
      ...extra,
    });
  // The probe runs once first: its Asyncify transform and compile are not the kill's cost (the
  // victim's happen in start(), before the clock starts).
  const warm = spec('service', probeSandbox, { args: ['1000'] });
  await driver.start(warm);
  await driver.destroy(warm.taskId);
  const exits: number[] = [];
  const frees: number[] = [];
  let timeouts = 0;
  for (let i = 0; i < options.samples && timeouts < maxTimeouts; i++) {
    const victim = spec(options.module, sandboxDir);
    await driver.start(victim);
    await sleep(20); // past its first sleep, inside its loop
    const t0 = performance.now();
    const deadline = t0 + capMs;
    await driver.stop(victim.taskId);
    const exit = await until(driver.wait(victim.taskId), deadline);
    exits.push(exit === 'timeout' ? capMs : performance.now() - t0);
    let firstLine: () => void = () => undefined;
    const printed = new Promise<void>((resolve) => (firstLine = resolve));
    const probe = spec('service', probeSandbox, {
      args: ['1000'],
      onLog: (stream) => stream === 'stdout' && firstLine(),
    });
    const started = driver.start(probe);
    started.catch(() => undefined); // a closed driver may refuse it after a timeout
    const free = await until(
      started.then(() => printed),
      deadline,
    );
    if (free === 'timeout') {
      timeouts++;
      frees.push(capMs);
      await until(driver.close(), performance.now() + capMs); // terminates the stuck thread
      driver = newDriver();
      continue;
    }
    frees.push(performance.now() - t0);
    await Promise.all([driver.destroy(probe.taskId), driver.destroy(victim.taskId)]);
  }
  await until(driver.close(), performance.now() + capMs);
  const q = (values: number[]) => ({
    p50Ms: round(percentile(values, 50)),
    p99Ms: round(percentile(values, 99)),
  });
  return {
    module: options.module,
    samples: frees.length,
    timeouts,
    capMs,
    exitReported: q(exits),
    threadFree: q(frees),
  };
}
