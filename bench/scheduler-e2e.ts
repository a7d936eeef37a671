// End to end over Redis: 1,000 Wasm instances of the service task on 4 agent processes, from
// `POST /v2/apps` to all TASK_RUNNING (target ≤ 5 s). Baseline in the same run: the transport
// floor — 1,000 launch commands to 4 echo consumers answering with a status, over the same Redis.
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
        await bus.publish(topics.status, status);
      },
    }),
  );
  let seen = 0;
  let done: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (done = resolve));
  const master = bus.consume<StatusMessage>({
    stream: topics.status,
    group: 'master',
    consumer: 'floor',
    handler: async () => {
      if (++seen === INSTANCES) done();
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

async function endToEnd(): Promise<{ ms: number; placedMs: number }> {
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
    // Agents load binaryen (to make sleeping modules share threads) in their first seconds; a
    // fleet is measured warm, as it is in service.
    await new Promise((r) => setTimeout(r, Number(process.env.WARMUP_MS ?? 30_000)));
    const bytes = await readFile(path.resolve('wasm-tasks/build/service.wasm'));
    const upload = await api.post('/v2/artifacts', new Uint8Array(bytes), {
      'content-type': 'application/wasm',
    });
    const started = performance.now();
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
    return { ms: performance.now() - started, placedMs };
  } finally {
    for (const p of processes.reverse()) await p.stop();
    await db.drop();
  }
}

const floorMs = await transportFloor();
const e2e = await endToEnd();
const results = {
  instances: INSTANCES,
  agents: AGENTS,
  transportFloorMs: floorMs,
  postToAllRunningMs: e2e.ms,
  postToAllPlacedMs: e2e.placedMs,
  targetMs: 5000,
  ratioToTarget: e2e.ms / 5000,
  ratioToFloor: e2e.ms / floorMs,
};
console.log(`${INSTANCES} Wasm instances on ${AGENTS} agent processes over Redis:`);
console.log(`  transport floor (launch → status echo): ${floorMs.toFixed(0)} ms`);
console.log(`  POST → all staged/running:              ${e2e.placedMs.toFixed(0)} ms`);
console.log(
  `  POST → all TASK_RUNNING:                ${e2e.ms.toFixed(0)} ms (target ≤ 5000, ×${results.ratioToTarget.toFixed(2)}; ×${results.ratioToFloor.toFixed(1)} floor)`,
);
await writeResults('scheduler-e2e', results);
