// `npm run bench:lb`: `pacer lb` (its own process, as deployed) in front of a command task
// (a plain Node http server run by `pacer dev`), against the same task reached directly in the
// same run: throughput (autocannon, keep-alive), p50 latency added by the balancer (sequential
// requests), and the failed requests of a rolling restart of 4 instances under steady load: of
// command tasks, and of socket-mode Wasm tasks (wasm-tasks/c/http-hello.c, drained by the agent
// after TASK_KILLING).
// Targets (issue 15): ≥ 60 % of direct throughput, p50 added ≤ 1 ms, 0 failed requests.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import autocannon from 'autocannon';
import { Agent, request } from 'undici';
import { freePort, startPacer, waitFor } from '../test/support/cluster.js';
import { backendApp } from '../test/support/lb-backend.js';
import { startLbDev, type LbDev } from '../test/support/lb-dev.js';
import { startLoad } from '../test/support/lb-load.js';
import { median, writeResults } from './results.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const CONNECTIONS = 32;
const LATENCY_SAMPLES = Number(process.env.BENCH_LATENCY_SAMPLES ?? 2000);
const ROUNDS = 3;

async function throughput(
  url: string,
  host: string,
): Promise<{ requestsPerSecond: number; non2xx: number; errors: number }> {
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: SECONDS,
    headers: { host },
  });
  return {
    requestsPerSecond: Math.round(result.requests.average),
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/**
 * Sequential requests, each on its keep-alive connection, alternating direct and through the
 * balancer so both see the same machine: each one's time, ms, and the pairwise differences.
 */
async function latencies(
  direct: string,
  through: string,
  host: string,
): Promise<{ direct: number[]; through: number[]; added: number[] }> {
  const dispatchers = [new Agent({ connections: 1 }), new Agent({ connections: 1 })];
  const times = { direct: [] as number[], through: [] as number[], added: [] as number[] };
  const once = async (url: string, dispatcher: Agent) => {
    const started = performance.now();
    const response = await request(url, { headers: { host }, dispatcher });
    await response.body.text();
    return performance.now() - started;
  };
  try {
    for (let i = 0; i < LATENCY_SAMPLES + 100; i += 1) {
      const d = await once(direct, dispatchers[0]!);
      const t = await once(through, dispatchers[1]!);
      if (i < 100) continue;
      times.direct.push(d);
      times.through.push(t);
      times.added.push(t - d);
    }
  } finally {
    await Promise.all(dispatchers.map((d) => d.close()));
  }
  return times;
}

/** A socket-mode Wasm app of 4 instances answering its task id, behind `vhost`. */
async function wasmApp(dev: LbDev, id: string, vhost: string): Promise<unknown> {
  const deployer = await dev.token('deployer', [{ path: '/', actions: ['view', 'create'] }]);
  const upload = await fetch(`${dev.url}/v2/artifacts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${deployer}`, 'content-type': 'application/wasm' },
    body: new Uint8Array(await readFile(path.resolve('wasm-tasks/build/http-hello.wasm'))),
  });
  const { uri } = (await upload.json()) as { uri: string };
  return {
    id,
    instances: 4,
    cpus: 0.1,
    mem: 16,
    cmd: 'http-hello.wasm',
    env: { HELLO_JSON: '1' },
    fetch: [{ uri: `${uri}/http-hello.wasm` }],
    portDefinitions: [{ port: 0, protocol: 'tcp', name: 'http' }],
    healthChecks: [{ protocol: 'HTTP', path: '/', portIndex: 0, intervalSeconds: 1 }],
    taskKillGracePeriodSeconds: 2,
    labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: vhost },
  };
}

/** Restarts the app's 4 instances under steady load through the balancer: what failed. */
async function rollingRestart(options: {
  dev: LbDev;
  appId: string;
  url: string;
  host: string;
  path?: (n: number) => string;
}) {
  const { dev, appId } = options;
  const before = new Set((await dev.healthyTasks(appId, 4)).map((t) => t.id));
  const load = startLoad({ url: options.url, host: options.host, workers: 8, path: options.path });
  await waitFor('load flowing', () => load.result.ok > 50);
  const started = performance.now();
  expect200(await dev.call('POST', `/v2/apps${appId}/restart`, {}));
  const after = await waitFor(
    'the restart done',
    async () => {
      if (((await dev.call('GET', '/v2/deployments')).body as unknown[]).length > 0) return false;
      const tasks = await dev.healthyTasks(appId, 4);
      return tasks.every((t) => !before.has(t.id)) ? tasks : false;
    },
    180_000,
  );
  const restartSeconds = (performance.now() - started) / 1000;
  // Load keeps going until the new tasks have answered through the balancer.
  await waitFor(
    'the new tasks answering',
    () => after.every((t) => load.result.tasks.has(t.id)),
    30_000,
  );
  const result = await load.stop();
  console.log(
    `rolling restart of 4 (${appId}) under load: ${result.ok} ok, ${result.failed} failed (target 0) in ${restartSeconds.toFixed(1)} s` +
      (result.failed ? ` ${JSON.stringify(Object.fromEntries(result.reasons))}` : ''),
  );
  return {
    instances: 4,
    ok: result.ok,
    failed: result.failed,
    reasons: Object.fromEntries(result.reasons),
    restartSeconds: Number(restartSeconds.toFixed(1)),
    target: 0,
  };
}

const dev = await startLbDev();
try {
  const token = await dev.token('lb', [{ path: '/', actions: ['view'] }]);
  const host = 'bench.example';
  expect201(
    await dev.call(
      'POST',
      '/v2/apps',
      backendApp('/bench/one', { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: host }),
    ),
  );
  expect201(
    await dev.call(
      'POST',
      '/v2/apps',
      backendApp(
        '/bench/four',
        { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'four.example' },
        { instances: 4 },
      ),
    ),
  );
  expect201(await dev.call('POST', '/v2/apps', await wasmApp(dev, '/bench/wasm', 'wasm.example')));
  const [task] = await dev.healthyTasks('/bench/one', 1, 120_000);
  await dev.healthyTasks('/bench/four', 4, 120_000);
  await dev.healthyTasks('/bench/wasm', 4, 120_000);
  const lbPort = await freePort();
  const lb = startPacer(['lb', '--port', String(lbPort), '--host', '127.0.0.1'], {
    PACER_MASTER_URL: dev.url,
    PACER_TOKEN: token,
    PACER_CONFIG: '/nonexistent/pacer.json',
    LOG_LEVEL: 'warn',
  });
  try {
    const direct = `http://127.0.0.1:${task!.ports[0]}/`;
    const through = `http://127.0.0.1:${lbPort}/`;
    await waitFor(
      'pacer lb routing',
      async () =>
        (await request(through, { headers: { host } })
          .then(async (r) => (await r.body.text(), r.statusCode))
          .catch(() => 0)) === 200,
      30_000,
    );
    await waitFor(
      'pacer lb routing four',
      async () =>
        (await request(through, { headers: { host: 'four.example' } })
          .then(async (r) => (await r.body.text(), r.statusCode))
          .catch(() => 0)) === 200,
      30_000,
    );

    // Alternate direct and through, so a machine busy for a while hurts both alike.
    const directRuns = [];
    const lbRuns = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      directRuns.push(await throughput(direct, host));
      lbRuns.push(await throughput(through, host));
    }
    const directRps = median(directRuns.map((r) => r.requestsPerSecond));
    const lbRps = median(lbRuns.map((r) => r.requestsPerSecond));
    const sampled = await latencies(direct, through, host);
    const directP50 = median(sampled.direct);
    const lbP50 = median(sampled.through);
    const addedP50 = median(sampled.added);
    console.log(
      `throughput: direct ${directRps}/s, through pacer lb ${lbRps}/s, ratio ${(lbRps / directRps).toFixed(3)} (target ≥ 0.6)`,
    );
    console.log(
      `p50 latency: direct ${directP50.toFixed(3)} ms, through ${lbP50.toFixed(3)} ms, added (median of pairwise differences) ${addedP50.toFixed(3)} ms (target ≤ 1)`,
    );

    // A rolling restart of 4 instances under steady load (8 requests always in flight, every
    // fifth one 300 ms long so some are in flight on a task when it is told to stop); then of 4
    // socket-mode Wasm instances (short requests: the C service has no slow path).
    const commandRestart = await rollingRestart({
      dev,
      appId: '/bench/four',
      url: through.slice(0, -1),
      host: 'four.example',
      path: (n) => (n % 5 === 0 ? '/?ms=300' : '/'),
    });
    const wasmRestart = await rollingRestart({
      dev,
      appId: '/bench/wasm',
      url: through.slice(0, -1),
      host: 'wasm.example',
    });
    await writeResults('lb', {
      note:
        "pacer lb in its own process; backends are command tasks (node http) of pacer dev, reached through the agent's " +
        'port forwarding both directly and through the balancer; autocannon in the bench process; one 2-core machine shared ' +
        'with other work, so absolute figures are noisy, the ratios less so.',
      throughput: {
        connections: CONNECTIONS,
        seconds: SECONDS,
        directRequestsPerSecond: directRps,
        lbRequestsPerSecond: lbRps,
        ratio: Number((lbRps / directRps).toFixed(3)),
        target: 0.6,
        runs: { direct: directRuns, lb: lbRuns },
      },
      latency: {
        samples: LATENCY_SAMPLES,
        directP50Ms: Number(directP50.toFixed(3)),
        lbP50Ms: Number(lbP50.toFixed(3)),
        addedP50Ms: Number(addedP50.toFixed(3)),
        method:
          'direct and through alternate request by request; added = median of the pairwise differences',
        targetMs: 1,
      },
      rollingRestart: commandRestart,
      rollingRestartWasm: { ...wasmRestart, backends: 'socket-mode Wasm (http-hello), grace 2 s' },
    });
  } finally {
    await lb.stop();
  }
} finally {
  await dev.stop();
}

function expect201(answer: { status: number; body: unknown }): void {
  if (answer.status !== 201)
    throw new Error(`expected 201, got ${answer.status}: ${JSON.stringify(answer.body)}`);
}
function expect200(answer: { status: number; body: unknown }): void {
  if (answer.status !== 200)
    throw new Error(`expected 200, got ${answer.status}: ${JSON.stringify(answer.body)}`);
}
