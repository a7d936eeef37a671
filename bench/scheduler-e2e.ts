// End to end over Redis: 1,000 Wasm instances of the service task on 4 agent processes, from
// `POST /v2/apps` to all TASK_RUNNING (target ≤ 1 s warm), and 10,000 on 10 agent processes
// (target ≤ 10 s). Baseline in the same run: the transport floor — as many launch commands to as
// many echo consumers answering with a status, over the same Redis. The 1,000 are measured on a
// warm fleet (agents in service that have run this module before: one instance each of an app
// with the same module and limits ran and was deleted, so its compiled, resumable form is
// cached, as when an app is scaled up: the headline figure) and a cold one (the POST as soon as
// all four agents have registered: each fetches, checks, instruments and makes the module
// resumable, loading binaryen's helper first). The 10,000 run on a warm fleet. Placement
// spreads (PACER_PLACEMENT=spread): the figure is for the work shared by every agent, where
// binpack would fill two of the four. Each run has the times of its stages read back from the
// bus (stage-times.ts). The apps have no ports, so agents on one machine need no port ranges.
// SKIP_COLD=1 and SKIP_LARGE=1 leave runs out; INSTANCES and AGENTS change the first run,
// LARGE_INSTANCES and LARGE_AGENTS the large one; RUN_TIMEOUT_MS bounds each run (10 min);
// BENCH_LOG_LEVEL sets the processes' log level (warn); SERVICE_SLEEP_MS the services' sleep
// between lines (5000). A run that does not converge prints its progress every 15 s, then the
// master's and agents' last log lines and each agent's streams (stream-report.ts).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  createRedisBus,
  topics,
  type CommandMessage,
  type StatusMessage,
} from '../src/bus/index.js';
import { silentLogger } from '../src/lib/index.js';
import {
  type apiClient,
  startPacer,
  tempDir,
  waitFor,
  waitForApi,
  type PacerProcess,
  prepareCluster,
  type ClusterSetup,
} from '../test/support/cluster.js';
import { REDIS_URL, redisPrefix } from '../test/support/services.js';
import { writeResults } from './results.js';
import { cpuSeconds, threadCpuSeconds } from './proc-usage.js';
import { stageTimes, type StageTimes } from './stage-times.js';
import { formatStreamReport, streamReport } from './stream-report.js';

const INSTANCES = Number(process.env.INSTANCES ?? 1000);
const AGENTS = Number(process.env.AGENTS ?? 4);
const LARGE = {
  instances: Number(process.env.LARGE_INSTANCES ?? 10_000),
  agents: Number(process.env.LARGE_AGENTS ?? 10),
  targetMs: 10_000,
};
const TARGET_MS = 1_000;
/**
 * How long each service sleeps between its lines (SERVICE_SLEEP_MS, 5 s): each line costs its
 * agent about as much CPU as a launch, so a long run's CPU per instance counts lines too.
 */
const SERVICE_SLEEP_MS = Number(process.env.SERVICE_SLEEP_MS ?? 5000);
const RUN_TIMEOUT_MS = Number(process.env.RUN_TIMEOUT_MS ?? 600_000);
const PROGRESS_EVERY_MS = 15_000;

interface Fleet {
  instances: number;
  agents: number;
}

/** Launch → status round trips through Redis with consumers that only echo: no control plane. */
async function transportFloor({ instances: INSTANCES, agents: AGENTS }: Fleet): Promise<number> {
  const prefix = redisPrefix();
  const bus = createRedisBus({ url: REDIS_URL, prefix, logger: silentLogger() });
  const echoes = Array.from({ length: AGENTS }, (_, n) =>
    bus.consume<CommandMessage>({
      stream: topics.commands(`echo-${n}`),
      group: 'agent',
      consumer: `echo-${n}`,
      handler: async ({ message }) => {
        if (message.type !== 'launch') return;
        const status: StatusMessage = {
          type: 'status',
          agentId: `echo-${n}`,
          taskId: message.taskId,
          state: 'TASK_RUNNING',
          seq: 1,
          at: Date.now(),
        };
        await bus.publish(topics.status(`echo-${n}`), status);
      },
    }),
  );
  let seen = 0;
  let done: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (done = resolve));
  const master = bus.consumeMany<StatusMessage>({
    streams: Array.from({ length: AGENTS }, (_, n) => topics.status(`echo-${n}`)),
    group: 'master',
    consumer: 'floor',
    handleBatch: async (_stream, entries) => {
      seen += entries.length;
      if (seen === INSTANCES) done();
    },
  });
  await new Promise((r) => setTimeout(r, 500)); // groups created
  const started = performance.now();
  await Promise.all(
    Array.from({ length: INSTANCES }, (_, i) =>
      bus.publish(topics.commands(`echo-${i % AGENTS}`), {
        type: 'launch',
        taskId: `t${i}`,
        spec: {},
      }),
    ),
  );
  await all;
  const elapsed = performance.now() - started;
  await Promise.all([...echoes, master].map((s) => s.stop()));
  await bus.close();
  return elapsed;
}

/** Runs `app` (one instance per agent, spread), then deletes it and waits until it is gone. */
async function runOnEveryAgent(
  api: ClusterSetup['api'],
  app: { id: string; instances: number },
): Promise<void> {
  const created = await api.post('/v2/apps', app);
  if (created.status !== 201) throw new Error(`warm-up answered ${created.status}`);
  const running = async () =>
    (
      (await api.get(`/v2/apps${app.id}/tasks`)).body.tasks as { state: string; host: string }[]
    ).filter((t) => t.state === 'TASK_RUNNING');
  await waitFor(
    `${app.instances} warm-up tasks`,
    async () => {
      const tasks = await running();
      return (
        tasks.length === app.instances && new Set(tasks.map((t) => t.host)).size === app.instances
      );
    },
    120_000,
  );
  await api.delete(`/v2/apps${app.id}?force=true`);
  await waitFor(
    'no warm-up task',
    async () => ((await api.get('/v2/tasks')).body.tasks as unknown[]).length === 0,
    60_000,
  );
}

interface RunFigures {
  ms: number;
  placedMs: number;
  stages: StageTimes;
  cpu: CpuFigures;
}

/** CPU time per launched instance from the POST to all running (robust on a loaded machine). */
interface CpuFigures {
  /** All agent processes together, all threads. */
  agentMsPerLaunch: number;
  /** Their main threads (event loops) alone. */
  agentMainMsPerLaunch: number;
  masterMsPerLaunch: number;
  /** The master's evaluation passes during the run: how many, and their time together. */
  passes: number;
  passMs: number;
}

/** The master's pass count and total pass time so far, from its Prometheus histogram. */
async function passTotals(api: ReturnType<typeof apiClient>) {
  const text = (await api.get<string>('/metrics/prometheus')).body;
  const value = (name: string) =>
    Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return {
    count: value('pacer_scheduling_pass_duration_seconds_count'),
    ms: value('pacer_scheduling_pass_duration_seconds_sum') * 1000,
  };
}

/** CPU seconds so far of the master and of the agents (all threads; main threads). */
async function cpuOf(processes: PacerProcess[]) {
  const [master, ...agents] = processes.map((p) => p.child.pid ?? 0);
  let agentTotal = 0;
  let agentMain = 0;
  for (const pid of agents) {
    agentTotal += await cpuSeconds(pid);
    agentMain += (await threadCpuSeconds(pid)).main;
  }
  return { master: await cpuSeconds(master ?? 0), agentTotal, agentMain };
}

/** The last `count` lines of a process's output. */
function lastLines(output: string, count: number): string {
  return output.trimEnd().split('\n').slice(-count).join('\n');
}

async function endToEnd(
  { instances: INSTANCES, agents: AGENTS }: Fleet,
  fleet: 'warm' | 'cold',
): Promise<RunFigures> {
  const { db, port, api, env } = await prepareCluster({
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    PACER_PLACEMENT: 'spread',
    // The 1.5 s lease of a master is lost when a loaded 2-core machine stalls the store or the
    // event loop that long (seen with 10,000 tasks beside it); `pacer dev`'s 10 s then.
    ...(INSTANCES > 1_000 ? { PACER_LEASE_TTL_MS: '10000' } : {}),
  });
  const processes: PacerProcess[] = [
    startPacer(['master', '--port', String(port), '--host', '127.0.0.1'], env),
  ];
  try {
    await waitForApi(api.url, processes[0]);
    for (let n = 1; n <= AGENTS; n++) {
      processes.push(
        startPacer(
          [
            'agent',
            '--hostname',
            `load-${n}`,
            '--resources',
            // No ports: the app has none, and agents on one machine would share the range.
            `cpus:${Math.max(4, Math.ceil((INSTANCES / AGENTS) * 0.01) + 2)},mem:16384,disk:65536`,
            '--work-dir',
            await tempDir('pacer-load'),
          ],
          env,
        ),
      );
    }
    await waitFor(
      'agents',
      async () => ((await api.get('/v2/agents')).body.agents as unknown[]).length === AGENTS,
      60_000,
    );
    const bytes = await readFile(path.resolve('wasm-tasks/build/service.wasm'));
    const upload = await api.post('/v2/artifacts', new Uint8Array(bytes), {
      'content-type': 'application/wasm',
    });
    const app = (id: string, instances: number) => ({
      id,
      instances,
      cpus: 0.01,
      mem: 1,
      disk: 0,
      portDefinitions: [],
      fetch: [{ uri: `${upload.body.uri as string}/service.wasm` }],
      cmd: `service.wasm ${SERVICE_SLEEP_MS}`,
    });
    if (fleet === 'warm') await runOnEveryAgent(api, app('/load/warmup', AGENTS));
    const cpuBefore = await cpuOf(processes);
    const passesBefore = await passTotals(api);
    const started = performance.now();
    const postedAtMs = Date.now();
    const res = await api.post('/v2/apps', app('/load/service', INSTANCES));
    if (res.status !== 201)
      throw new Error(`create answered ${res.status}: ${JSON.stringify(res.body)}`);
    let placedMs = 0;
    let progressAtMs = Date.now() + PROGRESS_EVERY_MS;
    await waitFor(
      `${INSTANCES} running`,
      async () => {
        // The list carries the counts without the tasks: polling 10,000 tasks' JSON would load
        // the master it measures.
        const listed = (await api.get('/v2/apps')).body.apps as {
          id: string;
          tasksRunning: number;
          tasksStaged: number;
        }[];
        const app = listed.find((a) => a.id === '/load/service') ?? {
          tasksRunning: 0,
          tasksStaged: 0,
        };
        if (!placedMs && app.tasksRunning + app.tasksStaged >= INSTANCES)
          placedMs = performance.now() - started;
        if (Date.now() >= progressAtMs) {
          progressAtMs = Date.now() + PROGRESS_EVERY_MS;
          const seconds = ((performance.now() - started) / 1000).toFixed(0);
          const streams = await streamReport({
            redisUrl: REDIS_URL,
            prefix: env.PACER_BUS_PREFIX as string,
          });
          console.error(
            `  ${seconds} s: ${app.tasksRunning} running, ${app.tasksStaged} staged of ${INSTANCES}\n` +
              formatStreamReport(streams),
          );
        }
        return app.tasksRunning === INSTANCES;
      },
      // Every 10 ms: waitFor's default backs off to 100 ms between polls, which added up to
      // 100 ms to a figure whose target is 1 s. A poll is one list of two apps' counts.
      { timeoutMs: RUN_TIMEOUT_MS, maxIntervalMs: 10 },
    );
    const ms = performance.now() - started;
    const cpuAfter = await cpuOf(processes);
    const passesAfter = await passTotals(api);
    const perLaunch = (seconds: number) => (seconds * 1000) / INSTANCES;
    const cpu: CpuFigures = {
      agentMsPerLaunch: perLaunch(cpuAfter.agentTotal - cpuBefore.agentTotal),
      agentMainMsPerLaunch: perLaunch(cpuAfter.agentMain - cpuBefore.agentMain),
      masterMsPerLaunch: perLaunch(cpuAfter.master - cpuBefore.master),
      passes: passesAfter.count - passesBefore.count,
      passMs: passesAfter.ms - passesBefore.ms,
    };
    const agentIds = ((await api.get('/v2/agents')).body.agents as { id: string }[]).map(
      (a) => a.id,
    );
    const stages = await stageTimes({
      redisUrl: REDIS_URL,
      prefix: env.PACER_BUS_PREFIX as string,
      agentIds,
      postedAtMs,
    });
    return { ms, placedMs, stages, cpu };
  } catch (error) {
    // What the master said last is most often why (it exited, or refused the POST); the agents'
    // last words and their streams say whether the bus fell behind.
    const [master, ...agents] = processes;
    console.error(`--- master (last lines):\n${lastLines(master?.output() ?? '', 40)}`);
    agents.forEach((agent, n) =>
      console.error(`--- agent load-${n + 1} (last lines):\n${lastLines(agent.output(), 10)}`),
    );
    const report = await streamReport({
      redisUrl: REDIS_URL,
      prefix: env.PACER_BUS_PREFIX as string,
      shouldCountCommands: true,
    }).catch((reason: unknown) => `streams not read: ${String(reason)}`);
    console.error(
      `--- streams:\n${typeof report === 'string' ? report : formatStreamReport(report)}`,
    );
    throw error;
  } finally {
    for (const p of processes.reverse()) await p.stop();
    await db.drop();
  }
}

const floorMs = await transportFloor({ instances: INSTANCES, agents: AGENTS });
const warm = await endToEnd({ instances: INSTANCES, agents: AGENTS }, 'warm');
const cold =
  process.env.SKIP_COLD === '1'
    ? undefined
    : await endToEnd({ instances: INSTANCES, agents: AGENTS }, 'cold');
const largeFloorMs = process.env.SKIP_LARGE === '1' ? undefined : await transportFloor(LARGE);
const large = process.env.SKIP_LARGE === '1' ? undefined : await endToEnd(LARGE, 'warm');
const results = {
  instances: INSTANCES,
  agents: AGENTS,
  transportFloorMs: floorMs,
  postToAllRunningMs: warm.ms,
  postToAllPlacedMs: warm.placedMs,
  targetMs: TARGET_MS,
  ratioToTarget: warm.ms / TARGET_MS,
  ratioToFloor: warm.ms / floorMs,
  warmStages: warm.stages,
  warmCpu: warm.cpu,
  cold: cold && {
    postToAllRunningMs: cold.ms,
    postToAllPlacedMs: cold.placedMs,
    ratioToTarget: cold.ms / TARGET_MS,
    stages: cold.stages,
    cpu: cold.cpu,
  },
  large: large &&
    largeFloorMs !== undefined && {
      instances: LARGE.instances,
      agents: LARGE.agents,
      transportFloorMs: largeFloorMs,
      postToAllRunningMs: large.ms,
      postToAllPlacedMs: large.placedMs,
      targetMs: LARGE.targetMs,
      ratioToTarget: large.ms / LARGE.targetMs,
      ratioToFloor: large.ms / largeFloorMs,
      stages: large.stages,
      cpu: large.cpu,
    },
};
const line = (label: string, ms: number) =>
  console.log(`  ${label.padEnd(40)} ${ms.toFixed(0)} ms`);
function print(name: string, run: RunFigures, target: { ms: number; floorMs: number }): void {
  console.log(` ${name}:`);
  line('POST → first launch published', run.stages.firstLaunchMs);
  line('POST → last launch published', run.stages.lastLaunchMs);
  line('POST → last TASK_STARTING published', run.stages.lastStartingMs);
  line('POST → last TASK_RUNNING published', run.stages.lastRunningMs);
  line('POST → all staged/running (API)', run.placedMs);
  console.log(
    `  ${'CPU per instance: agents (main thread)'.padEnd(40)} ${run.cpu.agentMsPerLaunch.toFixed(2)} ms (${run.cpu.agentMainMsPerLaunch.toFixed(2)} ms); master ${run.cpu.masterMsPerLaunch.toFixed(2)} ms`,
  );
  console.log(
    `  ${'master passes'.padEnd(40)} ${run.cpu.passes}, ${run.cpu.passMs.toFixed(0)} ms together`,
  );
  console.log(
    `  ${'POST → all TASK_RUNNING (API)'.padEnd(40)} ${run.ms.toFixed(0)} ms (target ≤ ${target.ms}, ×${(run.ms / target.ms).toFixed(2)}; ×${(run.ms / target.floorMs).toFixed(1)} floor)`,
  );
}
console.log(`${INSTANCES} Wasm instances on ${AGENTS} agent processes over Redis:`);
console.log(`  transport floor (launch → status echo): ${floorMs.toFixed(0)} ms`);
print('warm fleet (headline)', warm, { ms: TARGET_MS, floorMs });
if (cold)
  print('cold fleet (POST once the agents have registered)', cold, { ms: TARGET_MS, floorMs });
if (large && largeFloorMs !== undefined) {
  console.log(`${LARGE.instances} Wasm instances on ${LARGE.agents} agent processes over Redis:`);
  console.log(`  transport floor (launch → status echo): ${largeFloorMs.toFixed(0)} ms`);
  print('warm fleet', large, { ms: LARGE.targetMs, floorMs: largeFloorMs });
}
await writeResults('scheduler-e2e', results);
