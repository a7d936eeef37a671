// End to end over Redis: 1,000 Wasm instances of the service task on 4 agent processes, from
// `POST /v2/apps` to all TASK_RUNNING (target ≤ 5 s). Baseline in the same run: the transport
// floor — 1,000 launch commands to 4 echo consumers answering with a status, over the same Redis.
// Two fleets are measured: warm (the POST 30 s after the agents registered, as in service: the
// headline figure) and cold (the POST as soon as all four agents have registered), each with
// the times of its stages read back from the bus (stage-times.ts).
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
  startPacer,
  tempDir,
  waitFor,
  waitForApi,
  type PacerProcess,
  prepareCluster,
} from '../test/support/cluster.js';
import { REDIS_URL, redisPrefix } from '../test/support/services.js';
import { writeResults } from './results.js';
import { stageTimes, type StageTimes } from './stage-times.js';

const INSTANCES = Number(process.env.INSTANCES ?? 1000);
const AGENTS = 4;

/** Launch → status round trips through Redis with consumers that only echo: no control plane. */
async function transportFloor(): Promise<number> {
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

interface RunFigures {
  ms: number;
  placedMs: number;
  stages: StageTimes;
}

async function endToEnd(warmupMs: number): Promise<RunFigures> {
  const { db, port, api, env } = await prepareCluster({
    LOG_LEVEL: 'warn',
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
            'cpus:4,mem:16384,disk:65536,ports:[31000-32000]',
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
    // Agents load binaryen (to make sleeping modules share threads) and start their task
    // threads in their first seconds; the warm figure measures a fleet as it is in service.
    await new Promise((r) => setTimeout(r, warmupMs));
    const bytes = await readFile(path.resolve('wasm-tasks/build/service.wasm'));
    const upload = await api.post('/v2/artifacts', new Uint8Array(bytes), {
      'content-type': 'application/wasm',
    });
    const started = performance.now();
    const postedAtMs = Date.now();
    const res = await api.post('/v2/apps', {
      id: '/load/service',
      instances: INSTANCES,
      cpus: 0.01,
      mem: 1,
      disk: 0,
      portDefinitions: [],
      fetch: [{ uri: `${upload.body.uri as string}/service.wasm` }],
      cmd: 'service.wasm 5000',
    });
    if (res.status !== 201)
      throw new Error(`create answered ${res.status}: ${JSON.stringify(res.body)}`);
    let placedMs = 0;
    await waitFor(
      `${INSTANCES} running`,
      async () => {
        const app = (await api.get('/v2/apps/load/service')).body.app as {
          tasksRunning: number;
          tasksStaged: number;
        };
        if (!placedMs && app.tasksRunning + app.tasksStaged >= INSTANCES)
          placedMs = performance.now() - started;
        return app.tasksRunning === INSTANCES;
      },
      300_000,
    );
    const ms = performance.now() - started;
    const agentIds = ((await api.get('/v2/agents')).body.agents as { id: string }[]).map(
      (a) => a.id,
    );
    const stages = await stageTimes({
      redisUrl: REDIS_URL,
      prefix: env.PACER_BUS_PREFIX as string,
      agentIds,
      postedAtMs,
    });
    return { ms, placedMs, stages };
  } finally {
    for (const p of processes.reverse()) await p.stop();
    await db.drop();
  }
}

const floorMs = await transportFloor();
const warm = await endToEnd(Number(process.env.WARMUP_MS ?? 30_000));
const cold = process.env.SKIP_COLD === '1' ? undefined : await endToEnd(0);
const results = {
  instances: INSTANCES,
  agents: AGENTS,
  transportFloorMs: floorMs,
  postToAllRunningMs: warm.ms,
  postToAllPlacedMs: warm.placedMs,
  targetMs: 5000,
  ratioToTarget: warm.ms / 5000,
  ratioToFloor: warm.ms / floorMs,
  warmStages: warm.stages,
  cold: cold && {
    postToAllRunningMs: cold.ms,
    postToAllPlacedMs: cold.placedMs,
    ratioToTarget: cold.ms / 5000,
    stages: cold.stages,
  },
};
const line = (label: string, ms: number) =>
  console.log(`  ${label.padEnd(40)} ${ms.toFixed(0)} ms`);
function print(name: string, run: RunFigures): void {
  console.log(` ${name}:`);
  line('POST → first launch published', run.stages.firstLaunchMs);
  line('POST → last launch published', run.stages.lastLaunchMs);
  line('POST → last TASK_STAGING published', run.stages.lastStagingMs);
  line('POST → last TASK_STARTING published', run.stages.lastStartingMs);
  line('POST → last TASK_RUNNING published', run.stages.lastRunningMs);
  line('POST → all staged/running (API)', run.placedMs);
  console.log(
    `  ${'POST → all TASK_RUNNING (API)'.padEnd(40)} ${run.ms.toFixed(0)} ms (target ≤ 5000, ×${(run.ms / 5000).toFixed(2)}; ×${(run.ms / floorMs).toFixed(1)} floor)`,
  );
}
console.log(`${INSTANCES} Wasm instances on ${AGENTS} agent processes over Redis:`);
console.log(`  transport floor (launch → status echo): ${floorMs.toFixed(0)} ms`);
print('warm fleet (headline)', warm);
if (cold) print('cold fleet (POST once the agents have registered)', cold);
await writeResults('scheduler-e2e', results);
