// Fair sharing and exact CPU (issue 16): the DRF paper's example through schedule(); CPU time of
// two CPU-bound Wasm tasks (cpus 0.5 and 0.25) sharing one saturated thread, and of two command
// tasks on one core; the hard cap of one Wasm task of 0.5 cpus on an idle agent; placement
// throughput with 10 roles, quotas and DRF against the same snapshot without roles, in this run.
// Prints the figures and writes bench/results/fairness.json.
import { randomUUID } from 'node:crypto';
import { chmod, cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
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

async function runFor(driver: TaskDriver, specs: TaskSpec[], seconds: number) {
  for (const spec of specs) await driver.start(spec);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const exits: TaskExit[] = [];
  for (const spec of specs) {
    await driver.stop(spec.taskId);
    exits.push(await driver.wait(spec.taskId));
    await driver.destroy(spec.taskId);
  }
  const cpu = process.cpuUsage(cpu0);
  const elapsed = (performance.now() - t0) / 1000;
  return { exits, cores: (cpu.user + cpu.system) / 1e6 / elapsed };
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

async function wasmAlone(cpuLimit: 'shares' | 'hard') {
  const driver = createWasmDriver({ logger: silentLogger(), poolSize: 1, cpuLimit });
  const dir = await sandboxWith(SPIN_WASM);
  // Measured over the whole process: the agent's own idle work counts against the cap too.
  const { cores } = await runFor(driver, [wasmSpec(dir, 0.5)], SECONDS);
  await driver.close();
  await rm(dir, { recursive: true, force: true });
  return Number(cores.toFixed(3));
}

// --- 4. command CPU time ----------------------------------------------------------------------
async function commandShares(): Promise<
  { cpuSecondsA: number; cpuSecondsB: number; ratio: number } | { skipped: string }
> {
  const root = await mkdtemp(path.join(tmpdir(), 'pacer-fair-cmd-'));
  await chmod(root, 0o755);
  const driver = await createCommandDriver({
    logger: silentLogger(),
    stateDir: path.join(root, 'state'),
    useBubblewrap: false,
    memoryLimit: 'none',
    cpuLimit: 'shares',
  });
  if (!driver.sandboxing.cpu) return { skipped: 'no writable cpu cgroup' };
  const specs: TaskSpec[] = [];
  for (const cpus of [0.5, 0.25]) {
    const sandboxDir = path.join(root, `sb-${cpus}`);
    await mkdir(sandboxDir);
    specs.push({
      taskId: `fair_cmd.instance-${randomUUID()}._app.1`,
      kind: 'command',
      sandboxDir,
      // Both on core 0: one core saturated by two tasks, whatever else the machine runs.
      cmd: 'exec taskset -c 0 sh -c "while :; do :; done"',
      env: {},
      limits: { cpus, memMiB: 0, diskMiB: 64, killGracePeriodMs: 1000 },
      ports: [],
      labels: {},
      onLog: () => undefined,
    });
  }
  const handles: TaskHandle[] = [];
  for (const spec of specs) handles.push(await driver.start(spec));
  const procs = async (dir: string) =>
    (await readFile(path.join(dir, 'cgroup.procs'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map(Number);
  const used = async () =>
    Promise.all(
      handles.map(async (handle) => {
        let sum = 0;
        for (const pid of await procs(
          (handle.recoveryData as { cpuCgroupPath: string }).cpuCgroupPath,
        ))
          sum += await cpuSeconds(pid).catch(() => 0);
        return sum;
      }),
    );
  await new Promise((resolve) => setTimeout(resolve, 500));
  const before = await used();
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  const after = await used();
  for (const spec of specs) await driver.destroy(spec.taskId);
  await rm(root, { recursive: true, force: true });
  const [a = 0, b = 0] = after.map((v, i) => v - (before[i] ?? 0));
  return { cpuSecondsA: a, cpuSecondsB: b, ratio: a / Math.max(0.01, b) };
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
const hard = {
  cpus: 0.5,
  coresUsed: await wasmAlone('hard'),
  // The same task without the cap, in this run: what the machine gave one thread meanwhile.
  coresUsedUncapped: await wasmAlone('shares'),
};
console.log(
  `wasm --cpu-limit hard, cpus 0.5, idle agent: ${hard.coresUsed} cores (target <= 0.55; uncapped ${hard.coresUsedUncapped})`,
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
  commandShares:
    'ratio' in command ? { ...command, ratio: Number(command.ratio.toFixed(3)) } : command,
});
process.exit(0);
