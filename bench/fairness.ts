// Fair sharing and exact CPU (issue 16): the DRF paper's example through schedule(); CPU time of
// two CPU-bound Wasm tasks (cpus 0.5 and 0.25) sharing one saturated thread, and of two command
// tasks on one core; the hard cap of one CPU-bound task of 0.5 cpus (Wasm, command) on an idle
// agent; placement throughput with 10 roles, quotas and DRF against the same snapshot without
// roles, in this run. Prints the figures and writes bench/results/fairness.json.
//
// The hard cap on a shared machine: the CPU a task gets is also bounded by what the machine gives
// it, so a capped task using 0.3 cores where an uncapped one also gets 0.3 proves nothing. Each
// cap figure therefore comes with (a) the same task uncapped, in this run, and (b) for Wasm, the
// threads' demand from /proc/self/task/*/schedstat: time running plus time waiting in the run
// queue. On an idle machine nothing waits; the worker thread's share there is bracketed by
// run / (wall - wait) and (run + wait) / wall (see busiestThread; both are 1 for an uncapped
// thread, and the bracket narrows as the load falls). For a command the kernel enforces the CFS quota in CPU time,
// load or not: the figure is the CPU used, with the quota read back from the cgroup and how many
// periods the quota cut short (throttled > 0 means the task wanted more and the cap held).
import { randomUUID } from 'node:crypto';
import { chmod, cp, mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { cpus as machineCpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import type { AppDefinition, RolePolicy } from '../src/domain/index.js';
import { silentLogger } from '../src/lib/index.js';
import { createCommandDriver } from '../src/runtime/command/index.js';
import type { TaskDriver, TaskExit, TaskHandle, TaskSpec } from '../src/runtime/driver.js';
import { createWasmDriver } from '../src/runtime/wasm/wasm-driver.js';
import { makeAgent, makeApp } from '../src/scheduler/fixtures.js';
import { schedule } from '../src/scheduler/index.js';
import type { PlacementRequest, SchedulingSnapshot } from '../src/scheduler/index.js';
import { cpuSeconds } from './proc-usage.js';
import { median, writeResults } from './results.js';

const SPIN_WASM = path.resolve('wasm-tasks/build/spin-sleeper.wasm');
const SECONDS = Number(process.env.FAIRNESS_SECONDS ?? 8);

// --- 1. the DRF paper's example -------------------------------------------------------------
function paperExample() {
  const agent = makeAgent({ total: { cpus: 9, memMiB: 18 * 1024, diskMiB: 0, ports: [] } });
  const a = makeApp({ id: '/a/app', role: 'a', cpus: 1, mem: 4 * 1024 });
  const b = makeApp({ id: '/b/app', role: 'b', cpus: 3, mem: 1024 });
  const want = (app: AppDefinition) =>
    Array.from({ length: 20 }, (_, n) => ({ instanceId: `${app.id}-${n}`, app }));
  const plan = schedule({
    apps: [a, b],
    instances: [],
    agents: [agent],
    requests: [...want(b), ...want(a)],
    now: 0,
    seed: 'paper',
  });
  const count = (id: string) => plan.placements.filter((p) => p.appId === id).length;
  return { A: count('/a/app'), B: count('/b/app') };
}

// --- 2. placement throughput ------------------------------------------------------------------
const AGENTS = 1_000;
const APPS = 100;
const PER_APP = 100;

function snapshotOf(seed: string, withRoles: boolean): SchedulingSnapshot {
  const agents = Array.from({ length: AGENTS }, (_, i) =>
    makeAgent({
      agentId: `agent-${i}`,
      hostname: `edge-${i}.pacer.local`,
      attributes: { zone: `z${i % 3}` },
      total: { cpus: 16, memMiB: 32_768, diskMiB: 100_000, ports: [[31000, 32000]] },
    }),
  );
  const apps = Array.from({ length: APPS }, (_, a) =>
    makeApp({
      id: withRoles ? `/r${a % 10}/app-${a}` : `/bench/app-${a}`,
      ...(withRoles ? { role: `r${a % 10}` } : {}),
      cpus: [0.1, 0.25, 0.5][a % 3] as number,
      mem: [32, 64, 128, 256][a % 4] as number,
      instances: PER_APP,
      constraints: a % 3 === 0 ? [['hostname', 'UNIQUE']] : [],
    }),
  );
  const requests: PlacementRequest[] = apps.flatMap((app, a) =>
    Array.from({ length: PER_APP }, (_, n) => ({ instanceId: `app-${a}.instance-${n}`, app })),
  );
  // Quota on every role: guarantees well met, limits above what it asks (so all are placed and
  // both checks run on every request), weights 1 to 3.
  const rolePolicies: RolePolicy[] = Array.from({ length: 10 }, (_, r) => ({
    role: `r${r}`,
    weight: 1 + (r % 3),
    quota: { guarantees: { cpus: 10, memMiB: 1024 }, limits: { cpus: 2_000, memMiB: 1_000_000 } },
  }));
  return {
    apps,
    instances: [],
    agents,
    requests,
    now: 0,
    seed,
    ...(withRoles ? { rolePolicies } : {}),
  };
}

/** Both snapshots in turns (a run of each per round, the first round dropped as warm-up). */
function throughput(runs: number) {
  const rates = { baseline: [] as number[], roles: [] as number[] };
  const placed = { baseline: 0, roles: 0 };
  for (let r = 0; r <= runs; r++) {
    for (const mode of ['baseline', 'roles'] as const) {
      const snapshot = snapshotOf(`s-${r}`, mode === 'roles');
      const t0 = performance.now();
      const plan = schedule(snapshot);
      const ms = performance.now() - t0;
      placed[mode] = plan.placements.length;
      if (r > 0) rates[mode].push(plan.placements.length / (ms / 1000));
    }
  }
  return {
    baseline: { placementsPerSecond: Math.round(median(rates.baseline)), placed: placed.baseline },
    withRoles: { placementsPerSecond: Math.round(median(rates.roles)), placed: placed.roles },
  };
}

// --- 3. Wasm CPU time -------------------------------------------------------------------------
async function sandboxWith(file: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pacer-fair-'));
  await cp(file, path.join(dir, path.basename(file)));
  return dir;
}

function wasmSpec(sandboxDir: string, cpus: number): TaskSpec {
  return {
    taskId: `fair.instance-${randomUUID()}._app.1`,
    kind: 'wasm',
    sandboxDir,
    cmd: 'spin-sleeper.wasm',
    env: {},
    limits: {
      cpus,
      memMiB: 32,
      diskMiB: 16,
      fuel: 10n ** 15n,
      timeoutMs: 0,
      killGracePeriodMs: 1000,
    },
    ports: [],
    labels: {},
    onLog: () => undefined,
  };
}

/** Per thread of this process: nanoseconds run and waited in the run queue (schedstat). */
async function threadSchedstat(): Promise<Map<string, { runNs: number; waitNs: number }>> {
  const out = new Map<string, { runNs: number; waitNs: number }>();
  for (const tid of await readdir('/proc/self/task')) {
    const text = await readFile(`/proc/self/task/${tid}/schedstat`, 'utf8').catch(() => '');
    const [runNs = 0, waitNs = 0] = text.trim().split(' ').map(Number);
    if (text) out.set(tid, { runNs, waitNs });
  }
  return out;
}

type Schedstat = Awaited<ReturnType<typeof threadSchedstat>>;

/**
 * The busiest thread (the task's worker) between two readings, as shares of a core on an idle
 * machine, bracketed: `upper` = (run + run-queue wait) / wall counts every wait as time it would
 * have run (true for a thread that is always runnable; too high for one that sleeps between
 * slices, whose wake-up latency under load is counted too); `lower` = run / (wall - wait) drops
 * the waits from the timeline (too low for a capped thread, whose sleeps grew with them).
 */
function busiestThread(before: Schedstat, after: Schedstat, wallNs: number) {
  let best = { runNs: 0, waitNs: 0 };
  for (const [tid, now] of after) {
    const then = before.get(tid) ?? { runNs: 0, waitNs: 0 };
    const delta = { runNs: now.runNs - then.runNs, waitNs: now.waitNs - then.waitNs };
    if (delta.runNs > best.runNs) best = delta;
  }
  return {
    upper: (best.runNs + best.waitNs) / wallNs,
    lower: best.runNs / Math.max(1, wallNs - best.waitNs),
  };
}

/** Runs `specs` for `seconds`; CPU and thread demand are read over that window only. */
async function runFor(driver: TaskDriver, specs: TaskSpec[], seconds: number) {
  for (const spec of specs) await driver.start(spec);
  // Let the worker start the module before the window opens.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const cpu0 = process.cpuUsage();
  const sched0 = await threadSchedstat();
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const cpu = process.cpuUsage(cpu0);
  const sched1 = await threadSchedstat();
  const elapsed = (performance.now() - t0) / 1000;
  const exits: TaskExit[] = [];
  for (const spec of specs) {
    await driver.stop(spec.taskId);
    exits.push(await driver.wait(spec.taskId));
    await driver.destroy(spec.taskId);
  }
  return {
    exits,
    cores: (cpu.user + cpu.system) / 1e6 / elapsed,
    idle: busiestThread(sched0, sched1, elapsed * 1e9),
  };
}

/** Fuel stands for CPU time: the same module, the same loop, so fuel per ms is the same. */
async function wasmShares() {
  const driver = createWasmDriver({ logger: silentLogger(), poolSize: 1, cpuLimit: 'shares' });
  const dir = await sandboxWith(SPIN_WASM);
  const specs = [wasmSpec(dir, 0.5), wasmSpec(dir, 0.25)];
  const { exits } = await runFor(driver, specs, SECONDS);
  await driver.close();
  await rm(dir, { recursive: true, force: true });
  const [a, b] = exits.map((exit) => exit.fuelUsed ?? 0);
  return { fuelA: a, fuelB: b, ratio: (a ?? 0) / Math.max(1, b ?? 0) };
}

/**
 * One Wasm task of 0.5 cpus alone. Measured over the whole process (the agent's own work counts
 * against the cap too): `cores` is the CPU it got now, `idleCores` what it would use on an idle
 * machine (run + run-queue wait of every thread, per second).
 */
async function wasmAlone(cpuLimit: 'shares' | 'hard') {
  const driver = createWasmDriver({ logger: silentLogger(), poolSize: 1, cpuLimit });
  const dir = await sandboxWith(SPIN_WASM);
  const { cores, idle } = await runFor(driver, [wasmSpec(dir, 0.5)], SECONDS);
  await driver.close();
  await rm(dir, { recursive: true, force: true });
  return {
    cores: Number(cores.toFixed(3)),
    idleCores: { lower: Number(idle.lower.toFixed(3)), upper: Number(idle.upper.toFixed(3)) },
  };
}

// --- 4. command CPU time ----------------------------------------------------------------------
/** The cgroup's CPU cap in cores (v1 cfs quota / period, v2 cpu.max); null: none. */
async function cgroupQuotaCores(dir: string): Promise<number | null> {
  const v2 = await readFile(path.join(dir, 'cpu.max'), 'utf8').catch(() => undefined);
  const [quota, period] = v2
    ? v2.trim().split(' ')
    : [
        (await readFile(path.join(dir, 'cpu.cfs_quota_us'), 'utf8')).trim(),
        (await readFile(path.join(dir, 'cpu.cfs_period_us'), 'utf8')).trim(),
      ];
  if (quota === 'max' || quota === '-1' || !period) return null;
  return Number(quota) / Number(period);
}

/** Periods counted and periods the quota cut short (cpu.stat, v1 and v2 name them alike). */
async function cgroupThrottling(dir: string): Promise<{ periods: number; throttled: number }> {
  const stat = await readFile(path.join(dir, 'cpu.stat'), 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(stat)?.[1] ?? 0);
  return { periods: field('nr_periods'), throttled: field('nr_throttled') };
}

/**
 * CPU-bound command tasks, one per entry of `cpus`, for SECONDS: the CPU seconds each used (its
 * cgroup's processes, from /proc), its cgroup's quota and throttling. `isPinned` puts them all
 * on core 0 (one core saturated by them, whatever else the machine runs).
 */
async function runCommands(options: {
  cpus: number[];
  cpuLimit: 'shares' | 'hard';
  isPinned: boolean;
}): Promise<
  | {
      cpuSeconds: number[];
      seconds: number;
      quotaCores: (number | null)[];
      throttling: { periods: number; throttled: number }[];
    }
  | { skipped: string }
> {
  const root = await mkdtemp(path.join(tmpdir(), 'pacer-fair-cmd-'));
  await chmod(root, 0o755);
  const driver = await createCommandDriver({
    logger: silentLogger(),
    stateDir: path.join(root, 'state'),
    useBubblewrap: false,
    memoryLimit: 'none',
    cpuLimit: options.cpuLimit,
  });
  if (!driver.sandboxing.cpu) return { skipped: 'no writable cpu cgroup' };
  const specs: TaskSpec[] = [];
  const spin = 'sh -c "while :; do :; done"';
  for (const [n, cpus] of options.cpus.entries()) {
    const sandboxDir = path.join(root, `sb-${n}`);
    await mkdir(sandboxDir);
    specs.push({
      taskId: `fair_cmd.instance-${randomUUID()}._app.1`,
      kind: 'command',
      sandboxDir,
      cmd: options.isPinned ? `exec taskset -c 0 ${spin}` : `exec ${spin}`,
      env: {},
      limits: { cpus, memMiB: 0, diskMiB: 64, killGracePeriodMs: 1000 },
      ports: [],
      labels: {},
      onLog: () => undefined,
    });
  }
  const handles: TaskHandle[] = [];
  for (const spec of specs) handles.push(await driver.start(spec));
  const dirs = handles.map(
    (handle) => (handle.recoveryData as { cpuCgroupPath: string }).cpuCgroupPath,
  );
  const procs = async (dir: string) =>
    (await readFile(path.join(dir, 'cgroup.procs'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map(Number);
  const used = async () =>
    Promise.all(
      dirs.map(async (dir) => {
        let sum = 0;
        for (const pid of await procs(dir)) sum += await cpuSeconds(pid).catch(() => 0);
        return sum;
      }),
    );
  await new Promise((resolve) => setTimeout(resolve, 500));
  const before = await used();
  const throttled0 = await Promise.all(dirs.map(cgroupThrottling));
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  const after = await used();
  const throttled1 = await Promise.all(dirs.map(cgroupThrottling));
  const seconds = (performance.now() - t0) / 1000;
  const quotaCores = await Promise.all(dirs.map(cgroupQuotaCores));
  for (const spec of specs) await driver.destroy(spec.taskId);
  await rm(root, { recursive: true, force: true });
  return {
    cpuSeconds: after.map((v, i) => Number((v - (before[i] ?? 0)).toFixed(2))),
    seconds,
    quotaCores,
    throttling: throttled1.map((t, i) => ({
      periods: t.periods - (throttled0[i]?.periods ?? 0),
      throttled: t.throttled - (throttled0[i]?.throttled ?? 0),
    })),
  };
}

async function commandShares(): Promise<
  { cpuSecondsA: number; cpuSecondsB: number; ratio: number } | { skipped: string }
> {
  const run = await runCommands({ cpus: [0.5, 0.25], cpuLimit: 'shares', isPinned: true });
  if ('skipped' in run) return run;
  const [a = 0, b = 0] = run.cpuSeconds;
  return { cpuSecondsA: a, cpuSecondsB: b, ratio: a / Math.max(0.01, b) };
}

/** One command of 0.5 cpus alone, not pinned (an idle agent would give it a whole core). */
async function commandAlone(cpuLimit: 'shares' | 'hard') {
  const run = await runCommands({ cpus: [0.5], cpuLimit, isPinned: false });
  if ('skipped' in run) return run;
  return {
    cores: Number(((run.cpuSeconds[0] ?? 0) / run.seconds).toFixed(3)),
    quotaCores: run.quotaCores[0] ?? null,
    ...(run.throttling[0] ?? { periods: 0, throttled: 0 }),
  };
}

// --- run ---------------------------------------------------------------------------------------
const machine = {
  cores: machineCpus().length,
  loadavg: loadavg().map((l) => Number(l.toFixed(2))),
};
const paper = paperExample();
console.log(`DRF paper example: A ${paper.A}, B ${paper.B} (target A 3, B 2)`);
const { baseline, withRoles } = throughput(7);
const throughputRatio = withRoles.placementsPerSecond / baseline.placementsPerSecond;
console.log(
  `placement: ${withRoles.placementsPerSecond}/s with 10 roles + quota + DRF vs ${baseline.placementsPerSecond}/s without (${(throughputRatio * 100).toFixed(0)} %, target >= 50 %)`,
);
// FAIRNESS_PLACEMENT_ONLY=1: the pure figures only (quick, nothing written).
if (process.env.FAIRNESS_PLACEMENT_ONLY === '1') process.exit(0);
const wasm = await wasmShares();
console.log(
  `wasm cpus 0.5 : 0.25 on one saturated thread: CPU ratio ${wasm.ratio.toFixed(2)} (target 2.0 ± 10 %)`,
);
const capped = await wasmAlone('hard');
// The same task without the cap, in this run: what the machine gave one thread meanwhile.
const uncapped = await wasmAlone('shares');
const hard = {
  cpus: 0.5,
  /** What the capped task would use on an idle agent: the figure held to <= 0.55. */
  coresUsedIdle: capped.idleCores,
  /** What it got now, on this shared machine. */
  coresUsedNow: capped.cores,
  coresUsedIdleUncapped: uncapped.idleCores,
  coresUsedNowUncapped: uncapped.cores,
};
const range = (r: { lower: number; upper: number }) => `${r.lower}–${r.upper}`;
console.log(
  `wasm --cpu-limit hard, cpus 0.5, idle agent (worker thread, bracketed): ${range(hard.coresUsedIdle)} cores (target <= 0.55; uncapped ${range(hard.coresUsedIdleUncapped)}); got now ${hard.coresUsedNow} (uncapped ${hard.coresUsedNowUncapped})`,
);
const commandHard = await commandAlone('hard');
const commandUncapped = await commandAlone('shares');
console.log(
  'cores' in commandHard && 'cores' in commandUncapped
    ? `command --cpu-limit hard, cpus 0.5: ${commandHard.cores} cores, quota ${commandHard.quotaCores}, throttled ${commandHard.throttled}/${commandHard.periods} periods (target <= 0.55; uncapped ${commandUncapped.cores})`
    : 'command hard cap: skipped (no writable cpu cgroup)',
);
const command = await commandShares();
console.log(
  'ratio' in command
    ? `command cpus 0.5 : 0.25 on one core: CPU ratio ${command.ratio.toFixed(2)} (target 2.0 ± 10 %)`
    : `command: skipped (${command.skipped})`,
);
console.log(
  `machine: ${machine.cores} cores, load ${machine.loadavg.join(' ')} (shared: figures are noisy)`,
);
await writeResults('fairness', {
  machine,
  seconds: SECONDS,
  drfPaperExample: { ...paper, target: { A: 3, B: 2 } },
  placement: {
    baseline,
    withRolesQuotaDrf: withRoles,
    ratio: Number(throughputRatio.toFixed(3)),
    target: 0.5,
  },
  wasmShares: { ...wasm, ratio: Number(wasm.ratio.toFixed(3)), target: '2.0 ± 10 %' },
  wasmHardCap: { ...hard, target: 0.55 },
  commandHardCap: { cpus: 0.5, capped: commandHard, uncapped: commandUncapped, target: 0.55 },
  commandShares:
    'ratio' in command ? { ...command, ratio: Number(command.ratio.toFixed(3)) } : command,
});
process.exit(0);
