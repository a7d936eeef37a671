// Launch latency and per-task agent overhead of command tasks (with and without bubblewrap) and
// container tasks (podman). Run: node --expose-gc --import tsx bench/command.ts [samples]
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { silentLogger } from '../src/lib/index.js';
import { createCommandDriver, listProcessGroup } from '../src/runtime/command/index.js';
import { createContainerDriver, detectContainerEngine } from '../src/runtime/container/index.js';
import type { TaskDriver, TaskSpec } from '../src/runtime/driver.js';
import { ensureBusyboxImage } from './command-busybox-image.js';

const run = promisify(execFile);
const samples = Number(process.argv[2] ?? 10);
const concurrentTasks = Number(process.argv[3] ?? 10);
const root = await mkdtemp(path.join(tmpdir(), 'pacer-bench-command-'));
await chmod(root, 0o755);
let counter = 0;

/** Wall-clock epoch milliseconds with sub-millisecond resolution. */
const nowMs = () => performance.timeOrigin + performance.now();

async function spec(overrides: Partial<TaskSpec>): Promise<TaskSpec> {
  counter += 1;
  const sandboxDir = path.join(root, `sb-${counter}`);
  await mkdir(sandboxDir);
  return {
    taskId: `bench_cmd.instance-${process.pid}-${counter}._app.1`,
    kind: 'command',
    sandboxDir,
    env: {},
    limits: { cpus: 0.1, memMiB: 64, diskMiB: 0, killGracePeriodMs: 1000 },
    ports: [],
    labels: {},
    onLog: () => {},
    ...overrides,
  };
}

function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return `median ${at(0.5).toFixed(1)} ms, p90 ${at(0.9).toFixed(1)} ms, min ${at(0).toFixed(1)} ms (n=${values.length})`;
}

/** `start()` called → the task's own first instruction (it prints its start time) and → start() resolved. */
async function commandLatency(driver: TaskDriver): Promise<{ exec: number[]; resolved: number[] }> {
  const exec: number[] = [];
  const resolved: number[] = [];
  for (let i = 0; i < samples; i++) {
    let printed: string | undefined;
    const task = await spec({ args: ['date', '+%s%N'], onLog: (_s, line) => (printed ??= line) });
    const calledAt = nowMs();
    await driver.start(task);
    resolved.push(nowMs() - calledAt);
    await driver.wait(task.taskId);
    exec.push(Number(BigInt(printed ?? '0') / 1000n) / 1000 - calledAt);
    await driver.destroy(task.taskId);
  }
  return { exec, resolved };
}

async function containerLatency(
  driver: TaskDriver,
  image: string,
): Promise<{ exec: number[]; resolved: number[] }> {
  const exec: number[] = [];
  const resolved: number[] = [];
  for (let i = 0; i < samples; i++) {
    const task = await spec({
      kind: 'container',
      cmd: 'true',
      container: { type: 'DOCKER', docker: { image }, volumes: [] },
    });
    const calledAt = nowMs();
    await driver.start(task);
    resolved.push(nowMs() - calledAt);
    // The engine's StartedAt: when the runtime started the container's process.
    const { stdout } = await run('podman', ['inspect', '--type', 'container', task.taskId]);
    const [inspected] = JSON.parse(stdout) as { State: { StartedAt: string } }[];
    exec.push(parseNanoTimestamp(inspected?.State.StartedAt ?? '') - calledAt);
    await driver.wait(task.taskId);
    await driver.destroy(task.taskId);
  }
  return { exec, resolved };
}

/** `2026-01-01T00:00:00.123456789Z` (or with an offset) → epoch ms with sub-ms precision. */
function parseNanoTimestamp(text: string): number {
  const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(.*)$/.exec(text);
  if (!match?.[1]) return NaN;
  const fraction = Number(`0.${match[2] ?? '0'}`) * 1000;
  return Date.parse(`${match[1]}${match[3] ?? 'Z'}`) + fraction;
}

async function memoryOf(pid: number): Promise<{ pssKiB: number; rssKiB: number }> {
  const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
  const field = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
  return { pssKiB: field('Pss'), rssKiB: field('Rss') };
}

const gc = (globalThis as { gc?: () => void }).gc;
async function agentHeapKiB(): Promise<number> {
  gc?.();
  await new Promise((resolve) => setImmediate(resolve));
  gc?.();
  return process.memoryUsage().heapUsed / 1024;
}

/**
 * Runs `concurrentTasks` idle tasks and reports what each costs besides the task itself: the
 * agent's JS heap, and the helper processes (wrapper, bwrap; conmon for containers).
 */
async function overhead(
  driver: TaskDriver,
  make: () => Promise<TaskSpec>,
  helpersOf: (recoveryData: Record<string, unknown>) => Promise<number[]>,
): Promise<string> {
  const heapBefore = await agentHeapKiB();
  const rssBefore = process.memoryUsage().rss / 1024;
  const handles = [];
  for (let i = 0; i < concurrentTasks; i++) handles.push(await driver.start(await make()));
  const heapAfter = await agentHeapKiB();
  const rssAfter = process.memoryUsage().rss / 1024;
  let pss = 0;
  let rss = 0;
  let helpers = 0;
  for (const handle of handles) {
    for (const pid of await helpersOf(handle.recoveryData ?? {})) {
      const memory = await memoryOf(pid);
      pss += memory.pssKiB;
      rss += memory.rssKiB;
      helpers += 1;
    }
  }
  await Promise.all(handles.map((handle) => driver.destroy(handle.taskId)));
  const n = concurrentTasks;
  return (
    `agent heap +${((heapAfter - heapBefore) / n).toFixed(0)} KiB/task, agent RSS +${((rssAfter - rssBefore) / n).toFixed(0)} KiB/task; ` +
    `${(helpers / n).toFixed(1)} helper processes/task: PSS ${(pss / n).toFixed(0)} KiB, RSS ${(rss / n).toFixed(0)} KiB per task`
  );
}

/** The group's processes that are not the task's own command (wrapper, bwrap outside and its init). */
async function commandHelpers(data: Record<string, unknown>): Promise<number[]> {
  const members = await listProcessGroup(data.pid as number);
  const comm = async (pid: number) =>
    (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
  const helpers: number[] = [];
  for (const member of members) if ((await comm(member.pid)) !== 'sleep') helpers.push(member.pid);
  return helpers;
}

const lines: string[] = [];
const print = (line: string) => {
  lines.push(line);
  console.log(line);
};

print(
  `# command and container tasks (load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')})`,
);

// The floor on this machine right now: Node spawning the same program with nothing around it.
const baseline: number[] = [];
for (let i = 0; i < samples; i++) {
  const calledAt = nowMs();
  const { stdout } = await run('date', ['+%s%N']);
  baseline.push(Number(BigInt(stdout.trim()) / 1000n) / 1000 - calledAt);
}
print(
  `baseline, plain child_process spawn of date\n  spawn → process running: ${summary(baseline)}`,
);
for (const useBubblewrap of [false, true]) {
  const driver = await createCommandDriver({
    logger: silentLogger(),
    stateDir: path.join(root, 'state'),
    useBubblewrap,
  });
  const { sandboxing } = driver;
  const label = `command, ${useBubblewrap ? 'bubblewrap' : 'no bubblewrap'} (mem: ${sandboxing.memoryLimit}, user: ${sandboxing.taskUser === 'agent' ? 'agent' : sandboxing.taskUser.uid})`;
  const latency = await commandLatency(driver);
  print(
    `${label}\n  launch → process running: ${summary(latency.exec)}\n  launch → start() resolved: ${summary(latency.resolved)}`,
  );
  print(
    `  per-task overhead: ${await overhead(driver, () => spec({ cmd: 'exec sleep 1000' }), commandHelpers)}`,
  );
  await driver.close();
}

const engine = await detectContainerEngine('podman');
if (engine) {
  const image = await ensureBusyboxImage({ engine: 'podman' });
  const driver = createContainerDriver({
    logger: silentLogger(),
    engine: 'podman',
    runtime: 'runc',
    stateDir: path.join(root, 'ctr'),
  });
  const latency = await containerLatency(driver, image);
  print(
    `container, podman ${engine.version} + runc\n  launch → process running (StartedAt): ${summary(latency.exec)}\n  launch → start() resolved: ${summary(latency.resolved)}`,
  );
  const containerSpec = () =>
    spec({
      kind: 'container',
      cmd: 'exec sleep 1000',
      container: { type: 'DOCKER', docker: { image }, volumes: [] },
    });
  print(
    `  per-task overhead: ${await overhead(driver, containerSpec, async (data) => [data.watchPid as number])}`,
  );
  await driver.close();
} else {
  print('container: SKIPPED (podman does not work here)');
}
await rm(root, { recursive: true, force: true });
