// Wasm runtime benchmarks (issue 3): fuel overhead, launch latency, throughput, kill latency and
// density, each against its own baseline in the same run. Prints figures, writes bench/results/wasm.json.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../src/lib/index.js';
import { createWasmDriver, type TaskDriver } from '../src/runtime/index.js';
import { resumableReady } from '../src/runtime/wasm/index.js';
import { wasmTaskSpec } from '../wasm-tasks/fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));
let seq = 0;
const id = (name: string) => `bench-${name}-${++seq}`;
const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
};
const median = (values: number[]) => quantile(values, 0.5);
const round = (x: number, digits = 3) => Number(x.toFixed(digits));

async function runKernel(driver: TaskDriver, kind: string): Promise<number> {
  const spec = wasmTaskSpec({ module: 'kernels', taskId: id(`kernel-${kind}`), args: [kind] });
  const t0 = performance.now();
  await driver.start(spec);
  const exit = await driver.wait(spec.taskId);
  const ms = performance.now() - t0;
  await driver.destroy(spec.taskId);
  if (exit.state !== 'TASK_FINISHED') throw new Error(`kernel ${kind}: ${exit.message}`);
  return ms;
}

async function fuelOverhead() {
  const logger = silentLogger();
  const metered = createWasmDriver({ logger, poolSize: 1, defaultFuel: 10n ** 15n });
  const plain = createWasmDriver({ logger, poolSize: 1, shouldMeterFuel: false });
  const kernels = { loop: 'l', hash: 'h', recursion: 'r', calls: 'c' };
  const ratios: Record<string, number> = {};
  for (const [name, kind] of Object.entries(kernels)) {
    await runKernel(metered, kind); // compile and warm
    await runKernel(plain, kind);
    const m: number[] = [];
    const p: number[] = [];
    for (let i = 0; i < 3; i++) {
      p.push(await runKernel(plain, kind));
      m.push(await runKernel(metered, kind));
    }
    ratios[name] = round(median(m) / median(p));
    console.log(
      `fuel overhead ${name}: metered ${median(m).toFixed(0)} ms / unmetered ${median(p).toFixed(0)} ms = ${ratios[name]}`,
    );
  }
  await Promise.all([metered.close(), plain.close()]);
  const compute = median([ratios.loop!, ratios.hash!, ratios.recursion!]);
  return { computeMedian: compute, callHeavy: ratios.calls!, perKernel: ratios };
}

async function launchAndThroughput() {
  const driver = createWasmDriver({ logger: silentLogger(), poolSize: 2 });
  const sandbox = wasmTaskSpec({ module: 'noop', taskId: 'x' }).sandboxDir;
  const noop = (name: string) =>
    wasmTaskSpec({ module: 'noop', taskId: id(name), sandboxDir: sandbox });
  for (let i = 0; i < 50; i++) {
    const s = noop('warm');
    await driver.start(s);
    await driver.wait(s.taskId);
    await driver.destroy(s.taskId);
  }
  const latencies: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const s = noop('launch');
    const t0 = performance.now();
    await driver.start(s);
    latencies.push(performance.now() - t0);
    await driver.wait(s.taskId);
    await driver.destroy(s.taskId);
  }
  const launch = {
    p50Ms: round(quantile(latencies, 0.5)),
    p99Ms: round(quantile(latencies, 0.99)),
  };
  console.log(
    `launch latency (start → _start entered): p50 ${launch.p50Ms} ms, p99 ${launch.p99Ms} ms`,
  );

  const total = 4000;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < total) {
        next++;
        const s = noop('throughput');
        await driver.start(s);
        await driver.wait(s.taskId);
        await driver.destroy(s.taskId);
      }
    }),
  );
  const perSecond = Math.round(total / ((performance.now() - t0) / 1000));
  console.log(`throughput: ${perSecond} trivial tasks/s`);
  await driver.close();
  return { launch, throughputPerSecond: perSecond };
}

async function killLatency() {
  const driver = createWasmDriver({ logger: silentLogger(), poolSize: 2, defaultFuel: 10n ** 15n });
  const sandbox = wasmTaskSpec({ module: 'loop', taskId: 'x' }).sandboxDir;
  const samples: number[] = [];
  for (let i = 0; i < 40; i++) {
    const s = wasmTaskSpec({ module: 'loop', taskId: id('kill'), sandboxDir: sandbox });
    await driver.start(s);
    await new Promise((r) => setTimeout(r, 5)); // let the loop spin
    const t0 = performance.now();
    await driver.stop(s.taskId);
    await driver.wait(s.taskId);
    samples.push(performance.now() - t0);
    await driver.destroy(s.taskId);
  }
  await driver.close();
  const result = { p50Ms: round(quantile(samples, 0.5)), p99Ms: round(quantile(samples, 0.99)) };
  console.log(`kill latency of a tight loop: p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms`);
  return result;
}

async function density(count: number) {
  const driver = createWasmDriver({ logger: silentLogger(), poolSize: 2 });
  const sandbox = wasmTaskSpec({ module: 'service', taskId: 'x' }).sandboxDir;
  // Launches before binaryen has loaded run in threads of their own: measure a warm agent.
  await resumableReady();
  // One task first: binaryen (loaded once per process) and the compiled module are not per task.
  const warm = wasmTaskSpec({ module: 'service', taskId: id('warm'), sandboxDir: sandbox });
  await driver.start(warm);
  await driver.destroy(warm.taskId);
  global.gc?.();
  const before = process.memoryUsage().rss;
  const ids: string[] = [];
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const s = wasmTaskSpec({
      module: 'service',
      taskId: id('service'),
      sandboxDir: sandbox,
      args: ['1000'],
    });
    await driver.start(s);
    ids.push(s.taskId);
  }
  const startMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 1500));
  const after = process.memoryUsage().rss;
  const perTaskMiB = round((after - before) / count / 1048576, 2);
  console.log(
    `density: ${count} service tasks held (started in ${startMs.toFixed(0)} ms), ${perTaskMiB} MiB RSS per task`,
  );
  await Promise.all(ids.map((taskId) => driver.destroy(taskId)));
  await driver.close();
  return { tasksHeld: count, rssPerTaskMiB: perTaskMiB, startAllMs: Math.round(startMs) };
}

/**
 * Service start rate: N service tasks (`service.wasm 5000`, mem 1 MiB: the shape of the
 * 1,000-instance end-to-end target) started at once on one driver, after the driver had time to
 * load binaryen in the background as an agent does while it registers. The first start (Asyncify
 * transform and compile of the module) is reported apart from the rest.
 */
async function serviceStart(count: number) {
  const driver = createWasmDriver({ logger: silentLogger(), poolSize: 2 });
  const sandbox = wasmTaskSpec({ module: 'service', taskId: 'x' }).sandboxDir;
  const spec = () =>
    wasmTaskSpec({
      module: 'service',
      taskId: id('start'),
      sandboxDir: sandbox,
      args: ['5000'],
      limits: { cpus: 0.01, memMiB: 1, diskMiB: 1, killGracePeriodMs: 0 },
    });
  await new Promise((r) => setTimeout(r, 12_000));
  await resumableReady();
  const first = spec();
  let t0 = performance.now();
  await driver.start(first);
  const firstStartMs = round(performance.now() - t0, 1);
  const specs = Array.from({ length: count }, spec);
  const cpu0 = process.cpuUsage();
  t0 = performance.now();
  await Promise.all(specs.map((s) => driver.start(s)));
  const allMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const result = {
    tasks: count,
    firstStartMs,
    startAllMs: Math.round(allMs),
    msPerTask: round(allMs / count),
    cpuMsPerTask: round((cpu.user + cpu.system) / 1000 / count),
  };
  console.log(
    `service start rate: ${count} started at once in ${result.startAllMs} ms (${result.msPerTask} ms each, ${result.cpuMsPerTask} ms CPU each); first start ${firstStartMs} ms`,
  );
  await Promise.all([first, ...specs].map((s) => driver.destroy(s.taskId)));
  await driver.close();
  return result;
}

// BENCH_WASM_ONLY=fuel,launch,kill,start,density runs some sections and merges them into the last results.
const only = process.env.BENCH_WASM_ONLY?.split(',');
const shouldRun = (section: string) => !only || only.includes(section);
const resultsPath = join(here, 'results', 'wasm.json');
const previous: Record<string, unknown> =
  only && existsSync(resultsPath) ? JSON.parse(readFileSync(resultsPath, 'utf8')) : {};
const results = {
  ...previous,
  machine: { cpus: (await import('node:os')).availableParallelism(), node: process.version },
  ...(shouldRun('fuel') ? { fuelOverhead: await fuelOverhead() } : {}),
  ...(shouldRun('launch') ? await launchAndThroughput() : {}),
  ...(shouldRun('kill') ? { killLatency: await killLatency() } : {}),
  ...(shouldRun('start')
    ? { serviceStart: await serviceStart(Number(process.env.BENCH_WASM_START ?? 1000)) }
    : {}),
  ...(shouldRun('density')
    ? { density: await density(Number(process.env.BENCH_WASM_DENSITY ?? 300)) }
    : {}),
  notes: [
    'Modules that import poll_oneoff are made resumable (binaryen Asyncify) and run resident in shared worker threads: a sleep or the end of a fuel slice unwinds the guest, so one thread holds thousands of sleeping tasks. Other modules take a pooled worker each.',
    'binaryen loads in a child process of its own (Liftoff only) when the driver is created (about 0.6 s, once per agent process); serviceStart waits 12 s for it like an agent that registered before work arrived. Density starts its tasks one after another (each start awaited).',
  ],
};
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
console.log(JSON.stringify(results, null, 2));
