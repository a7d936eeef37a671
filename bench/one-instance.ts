// One instance, `POST /v2/apps` → its `status_update_event` TASK_RUNNING on the event stream,
// p50/p99 over ROUNDS apps, in `pacer dev` and with a master and one agent over Redis (targets:
// p50 ≤ 10 ms / ≤ 15 ms). Baseline in the same run, the transport floor under any control plane:
// an HTTP round trip to the API (/ping) plus starting the same Wasm task straight through the
// driver, plus, over Redis, a launch → status echo through two streams. Each round also records
// when the POST was answered and when TASK_STAGING and TASK_STARTING arrived: where time goes.
// Rounds run one after another, each once the previous app's removal has finished. ONLY=dev or
// ONLY=cluster runs one of the two; ROUNDS sets the rounds (50).
import { copyFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  createRedisBus,
  topics,
  type CommandMessage,
  type StatusMessage,
} from '../src/bus/index.js';
import { createWasmDriver } from '../src/runtime/index.js';
import { silentLogger } from '../src/lib/index.js';
import type { apiClient } from '../test/support/cluster.js';
import {
  prepareCluster,
  startDev,
  startPacer,
  tempDir,
  waitFor,
  waitForApi,
  type PacerProcess,
} from '../test/support/cluster.js';
import { REDIS_URL, redisPrefix } from '../test/support/services.js';
import { median, percentile, writeResults } from './results.js';

const ROUNDS = Number(process.env.ROUNDS ?? 50);
const WARMUP = 5;
const SERVICE_WASM = path.resolve('wasm-tasks/build/service.wasm');

type Api = ReturnType<typeof apiClient>;

interface Figures {
  p50: number;
  p99: number;
  samples: number[];
}

function figures(samples: number[]): Figures {
  return { p50: median(samples), p99: percentile(samples, 99), samples };
}

/**
 * The event stream, with a waiter per (app id, task status): resolves with the arrival time of
 * the first matching `status_update_event`.
 */
async function eventStream(baseUrl: string) {
  const controller = new AbortController();
  const response = await fetch(`${baseUrl}/v2/events?event_type=status_update_event`, {
    headers: { accept: 'text/event-stream' },
    signal: controller.signal,
  });
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const waiters = new Map<string, (atMs: number) => void>();
  let rest = '';
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      const atMs = performance.now();
      const lines = (rest + decoder.decode(value)).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('data:')) continue;
        const event = JSON.parse(line.slice(5)) as { appId: string; taskStatus: string };
        const key = `${event.appId} ${event.taskStatus}`;
        waiters.get(key)?.(atMs);
        waiters.delete(key);
      }
    }
  })().catch(() => undefined); // ends with stop()
  return {
    next(appId: string, taskStatus: string): Promise<number> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${taskStatus} of ${appId}`)), 60_000);
        waiters.set(`${appId} ${taskStatus}`, (atMs) => {
          clearTimeout(timer);
          resolve(atMs);
        });
      });
    },
    stop: () => controller.abort(),
  };
}

/** Where the time of a round goes: p50 ms after the POST was sent, per step seen from outside. */
interface Stages {
  postAnswered: number;
  staging: number;
  starting: number;
  running: number;
}

async function measure(api: Api, label: string): Promise<Figures & { stagesP50: Stages }> {
  const bytes = await readFile(SERVICE_WASM);
  const upload = await api.post('/v2/artifacts', new Uint8Array(bytes), {
    'content-type': 'application/wasm',
  });
  const uri = `${upload.body.uri as string}/service.wasm`;
  const events = await eventStream(api.url);
  const samples: number[] = [];
  const stages: Stages[] = [];
  try {
    for (let round = 0; round < WARMUP + ROUNDS; round++) {
      const id = `/bench/one-${label}-${round}`;
      const [staging, starting, running] = ['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING'].map(
        (status) => events.next(id, status),
      ) as [Promise<number>, Promise<number>, Promise<number>];
      const started = performance.now();
      const res = await api.post('/v2/apps', {
        id,
        instances: 1,
        cpus: 0.01,
        mem: 8,
        disk: 0,
        portDefinitions: [],
        fetch: [{ uri }],
        cmd: 'service.wasm 5000',
      });
      const answeredAt = performance.now();
      if (res.status !== 201)
        throw new Error(`create answered ${res.status}: ${JSON.stringify(res.body)}`);
      const atMs = await running;
      if (round >= WARMUP) {
        samples.push(atMs - started);
        stages.push({
          postAnswered: answeredAt - started,
          staging: (await staging) - started,
          starting: (await starting) - started,
          running: atMs - started,
        });
      }
      const killed = events.next(id, 'TASK_KILLED');
      await api.delete(`/v2/apps${id}`);
      await killed;
      // Each round starts on an idle master: the removal's deployment ends once its instance is
      // expunged, and that write must not land in the next round's placement.
      await waitFor(
        'the removal to finish',
        async () => ((await api.get('/v2/deployments')).body as unknown[]).length === 0,
      );
    }
  } finally {
    events.stop();
  }
  const stagesP50 = Object.fromEntries(
    (['postAnswered', 'staging', 'starting', 'running'] as const).map((key) => [
      key,
      Math.round(median(stages.map((s) => s[key])) * 10) / 10,
    ]),
  ) as unknown as Stages;
  return { ...figures(samples), stagesP50 };
}

const EMPTY = {
  p50: NaN,
  p99: NaN,
  samples: [],
  stagesP50: { postAnswered: NaN, staging: NaN, starting: NaN, running: NaN },
};

async function inDev(): ReturnType<typeof measure> {
  const { dev, api } = await startDev('pacer-one');
  try {
    return await measure(api, 'dev');
  } finally {
    await dev.stop();
  }
}

async function inCluster(): ReturnType<typeof measure> {
  const { db, port, api, env } = await prepareCluster({ LOG_LEVEL: 'warn' });
  const processes: PacerProcess[] = [
    startPacer(['master', '--port', String(port), '--host', '127.0.0.1'], env),
  ];
  try {
    await waitForApi(api.url, processes[0]);
    processes.push(
      startPacer(
        [
          'agent',
          '--hostname',
          'one-1',
          '--resources',
          'cpus:4,mem:4096',
          '--work-dir',
          await tempDir('pacer-one-agent'),
        ],
        env,
      ),
    );
    await waitFor(
      'the agent',
      async () => ((await api.get('/v2/agents')).body.agents ?? []).length === 1,
      60_000,
    );
    return await measure(api, 'cluster');
  } finally {
    for (const p of processes.reverse()) await p.stop();
    await db.drop();
  }
}

/** HTTP round trips to /ping of a fresh `pacer dev`: the API's own floor. */
async function httpFloor(): Promise<Figures> {
  const { dev, api } = await startDev('pacer-one');
  try {
    const samples: number[] = [];
    for (let round = 0; round < WARMUP + ROUNDS; round++) {
      const started = performance.now();
      await fetch(`${api.url}/ping`).then((r) => r.text());
      if (round >= WARMUP) samples.push(performance.now() - started);
    }
    return figures(samples);
  } finally {
    await dev.stop();
  }
}

/** The same task started and stopped straight through the Wasm driver, warm. */
async function driverFloor(): Promise<Figures> {
  const driver = createWasmDriver({ logger: silentLogger(), poolSize: 2 });
  const dir = await tempDir('pacer-one-driver');
  await copyFile(SERVICE_WASM, path.join(dir, 'service.wasm'));
  const samples: number[] = [];
  for (let round = 0; round < WARMUP + ROUNDS; round++) {
    const taskId = `floor-${round}`;
    const started = performance.now();
    await driver.start({
      taskId,
      kind: 'wasm',
      sandboxDir: dir,
      cmd: 'service.wasm 5000',
      env: {},
      labels: {},
      ports: [],
      limits: { cpus: 0.01, memMiB: 8, diskMiB: 0, killGracePeriodMs: 0 },
      onLog: () => {},
    });
    if (round >= WARMUP) samples.push(performance.now() - started);
    await driver.stop(taskId);
    await driver.destroy(taskId);
  }
  await driver.close();
  return figures(samples);
}

/** One launch → status round trip through Redis streams with an echoing consumer. */
async function redisFloor(): Promise<Figures> {
  const bus = createRedisBus({ url: REDIS_URL, prefix: redisPrefix(), logger: silentLogger() });
  const echo = bus.consume<CommandMessage>({
    stream: topics.commands('echo'),
    group: 'agent',
    consumer: 'echo',
    handler: async ({ message }) => {
      if (message.type !== 'launch') return;
      const status: StatusMessage = {
        type: 'status',
        agentId: 'echo',
        taskId: message.taskId,
        state: 'TASK_RUNNING',
        seq: 1,
        at: Date.now(),
      };
      await bus.publish(topics.status('echo'), status);
    },
  });
  const waiting = new Map<string, () => void>();
  const master = bus.consumeMany<StatusMessage>({
    streams: [topics.status('echo')],
    group: 'master',
    consumer: 'floor',
    handleBatch: async (_stream, entries) => {
      for (const { message } of entries) waiting.get(message.taskId)?.();
    },
  });
  await new Promise((r) => setTimeout(r, 500)); // groups created
  const samples: number[] = [];
  for (let round = 0; round < WARMUP + ROUNDS; round++) {
    const taskId = `t${round}`;
    const back = new Promise<void>((resolve) => waiting.set(taskId, resolve));
    const started = performance.now();
    await bus.publish(topics.commands('echo'), { type: 'launch', taskId, spec: {} });
    await back;
    if (round >= WARMUP) samples.push(performance.now() - started);
  }
  await Promise.all([echo, master].map((s) => s.stop()));
  await bus.close();
  return figures(samples);
}

const http = await httpFloor();
const driver = await driverFloor();
const redis = await redisFloor();
const only = process.env.ONLY;
const dev = only === 'cluster' ? EMPTY : await inDev();
const cluster = only === 'dev' ? EMPTY : await inCluster();
const devFloor = http.p50 + driver.p50;
const clusterFloor = devFloor + redis.p50;
const results = {
  rounds: ROUNDS,
  floor: {
    httpPingMs: http,
    driverStartMs: driver,
    redisEchoMs: redis,
    devP50Ms: devFloor,
    clusterP50Ms: clusterFloor,
  },
  devMs: { ...dev, targetP50: 10, ratioToFloor: dev.p50 / devFloor },
  clusterMs: { ...cluster, targetP50: 15, ratioToFloor: cluster.p50 / clusterFloor },
};
const ms = (v: number) => `${v.toFixed(1)} ms`;
console.log(`one instance, POST → TASK_RUNNING event, ${ROUNDS} rounds:`);
console.log(
  `  floor: /ping ${ms(http.p50)}, driver start ${ms(driver.p50)}, Redis echo ${ms(redis.p50)}`,
);
console.log(
  `  pacer dev:               p50 ${ms(dev.p50)}  p99 ${ms(dev.p99)}  (target p50 ≤ 10 ms; floor ${ms(devFloor)})`,
);
console.log(
  `  master + agent (Redis):  p50 ${ms(cluster.p50)}  p99 ${ms(cluster.p99)}  (target p50 ≤ 15 ms; floor ${ms(clusterFloor)})`,
);
const stagesLine = (stages: Stages) =>
  `POST answered ${ms(stages.postAnswered)}, STAGING ${ms(stages.staging)}, STARTING ${ms(stages.starting)}, RUNNING ${ms(stages.running)}`;
console.log(`  pacer dev, p50 after the POST was sent: ${stagesLine(dev.stagesP50)}`);
console.log(`  master + agent, p50 after the POST was sent: ${stagesLine(cluster.stagesP50)}`);
// A partial run (ONLY) prints its figures but keeps the stored results of the last whole one.
if (only === undefined) await writeResults('one-instance', results);
