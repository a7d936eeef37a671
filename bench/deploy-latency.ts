// Milliseconds from `POST /v2/apps` to all instances TASK_RUNNING for a 10-instance Wasm app,
// in `pacer dev` and with a master and two agents over Redis (median of 5 each). Baseline in the
// same run: starting the same 10 tasks straight through the Wasm driver, no control plane.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { apiClient } from '../test/support/cluster.js';
import {
  startPacer,
  tempDir,
  waitFor,
  waitForApi,
  type PacerProcess,
  prepareCluster,
  startDev,
} from '../test/support/cluster.js';
import { createWasmDriver } from '../src/runtime/index.js';
import { silentLogger } from '../src/lib/index.js';
import { median, writeResults } from './results.js';

const INSTANCES = 10;
const ROUNDS = 5;
const SERVICE_WASM = path.resolve('wasm-tasks/build/service.wasm');

async function deployOnce(
  api: ReturnType<typeof apiClient>,
  uri: string,
  round: number,
): Promise<number> {
  const id = `/bench/latency-${round}`;
  const started = performance.now();
  const res = await api.post('/v2/apps', {
    id,
    instances: INSTANCES,
    cpus: 0.01,
    mem: 8,
    disk: 0,
    fetch: [{ uri }],
    cmd: 'service.wasm',
  });
  if (res.status !== 201)
    throw new Error(`create answered ${res.status}: ${JSON.stringify(res.body)}`);
  await waitFor(
    `${INSTANCES} running`,
    async () => {
      const tasks = (await api.get(`/v2/apps${id}/tasks`)).body.tasks as { state: string }[];
      return tasks.length === INSTANCES && tasks.every((t) => t.state === 'TASK_RUNNING');
    },
    { timeoutMs: 60_000, maxIntervalMs: 10 },
  );
  const elapsed = performance.now() - started;
  await api.delete(`/v2/apps${id}`);
  await waitFor(
    'app gone',
    async () => (await api.get('/v2/tasks')).body.tasks.length === 0,
    60_000,
  );
  return elapsed;
}

async function measure(api: ReturnType<typeof apiClient>): Promise<number[]> {
  const bytes = await readFile(SERVICE_WASM);
  const upload = await api.post('/v2/artifacts', new Uint8Array(bytes), {
    'content-type': 'application/wasm',
  });
  const uri = `${upload.body.uri as string}/service.wasm`;
  await deployOnce(api, uri, 0); // warm-up: artifact cache, compiled module, warm workers
  const times: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) times.push(await deployOnce(api, uri, round));
  return times;
}

async function inDev(): Promise<number[]> {
  const { dev, api } = await startDev('pacer-bench-dev');
  try {
    return await measure(api);
  } finally {
    await dev.stop();
  }
}

async function inCluster(): Promise<number[]> {
  const { db, port, api, env } = await prepareCluster({
    LOG_LEVEL: 'warn',
    PACER_OFFER_INTERVAL_MS: '500',
  });
  const processes: PacerProcess[] = [
    startPacer(['master', '--port', String(port), '--host', '127.0.0.1'], env),
  ];
  try {
    await waitForApi(api.url, processes[0]);
    for (const n of [1, 2]) {
      processes.push(
        startPacer(
          [
            'agent',
            '--hostname',
            `bench-${n}`,
            '--resources',
            'cpus:4,mem:4096',
            '--work-dir',
            await tempDir('pacer-bench-agent'),
          ],
          env,
        ),
      );
    }
    await waitFor(
      'two agents',
      async () => ((await api.get('/v2/agents')).body.agents ?? []).length === 2,
      30_000,
    );
    return await measure(api);
  } finally {
    for (const p of processes.reverse()) await p.stop();
    await db.drop();
  }
}

/** The same 10 tasks started directly through the driver: the floor under any control plane. */
async function baseline(): Promise<number[]> {
  const driver = createWasmDriver({ logger: silentLogger(), poolSize: 2 });
  const dir = await tempDir('pacer-bench-baseline');
  const { copyFile } = await import('node:fs/promises');
  await copyFile(SERVICE_WASM, path.join(dir, 'service.wasm'));
  const times: number[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    const started = performance.now();
    const ids = Array.from({ length: INSTANCES }, (_, i) => `baseline-${round}-${i}`);
    await Promise.all(
      ids.map((taskId) =>
        driver.start({
          taskId,
          kind: 'wasm',
          sandboxDir: dir,
          cmd: 'service.wasm',
          env: {},
          labels: {},
          ports: [],
          limits: { cpus: 0.01, memMiB: 8, diskMiB: 0, killGracePeriodMs: 0 },
          onLog: () => {},
        }),
      ),
    );
    if (round > 0) times.push(performance.now() - started);
    await Promise.all(ids.map((id) => driver.stop(id)));
    await Promise.all(ids.map((id) => driver.destroy(id)));
  }
  await driver.close();
  return times;
}

const base = await baseline();
const dev = await inDev();
const cluster = await inCluster();
const results = {
  instances: INSTANCES,
  rounds: ROUNDS,
  baselineDriverMs: { median: median(base), samples: base },
  devMs: { median: median(dev), samples: dev, ratioToBaseline: median(dev) / median(base) },
  clusterMs: {
    median: median(cluster),
    samples: cluster,
    ratioToBaseline: median(cluster) / median(base),
  },
};
console.log(`deploy latency, ${INSTANCES} instances, median of ${ROUNDS}:`);
console.log(`  baseline (driver only):        ${median(base).toFixed(1)} ms`);
console.log(
  `  pacer dev:                     ${median(dev).toFixed(1)} ms  (×${results.devMs.ratioToBaseline.toFixed(1)} baseline)`,
);
console.log(
  `  master + 2 agents over Redis:  ${median(cluster).toFixed(1)} ms  (×${results.clusterMs.ratioToBaseline.toFixed(1)} baseline)`,
);
await writeResults('deploy-latency', results);
