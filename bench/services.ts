// Wasm services (issue 15): socket-mode hello (keep-alive) and WAGI hello requests per second,
// each as a ratio to a plain Node `http` server answering the same bytes (for WAGI: the
// handler's own body and headers) in the same run and
// the same process as the driver (autocannon runs in a child process, so it does not share the
// main thread it measures); WAGI's per-request overhead; idle socket-mode services held by one
// driver, with the memory each costs.
//
// `npm run bench:services` → bench/results/services.json. SERVICES_IDLE (default 1000) sets the
// idle count; SERVICES_SECONDS (default 4) each load's length.
import { execFile } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { promisify } from 'node:util';
import { silentLogger } from '../src/lib/index.js';
import { createWasmDriver, type TaskSpec } from '../src/runtime/index.js';
import { resumableReady } from '../src/runtime/wasm/index.js';
import { waitFor } from '../test/support/wait-for.js';
import { sandboxWith, wasmTaskSpec } from '../wasm-tasks/fixtures.js';
import { median, percentile, writeResults } from './results.js';

const SECONDS = Number(process.env.SERVICES_SECONDS ?? 4);
const CONNECTIONS = 32;
const IDLE = Number(process.env.SERVICES_IDLE ?? 1000);
const BODY = 'hello\n';

interface Load {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

/** autocannon in a child process (its own CPU, not the measured main thread). */
async function load(url: string, connections = CONNECTIONS, seconds = SECONDS): Promise<Load> {
  const { stdout } = await promisify(execFile)(
    'node_modules/.bin/autocannon',
    ['-c', String(connections), '-d', String(seconds), '-j', url],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const result = JSON.parse(stdout) as {
    requests: { average: number };
    latency: { p50: number; p99: number };
    non2xx: number;
    errors: number;
  };
  return {
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/** The round with the median requests per second. */
function medianLoad(rounds: Load[]): Load {
  const sorted = [...rounds].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
  return sorted[Math.floor(sorted.length / 2)] as Load;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The baseline: Node's http answering `body` with `headers` (what the measured service answers). */
async function plainNode(
  body: string | Uint8Array = BODY,
  headers: Record<string, string> = { 'content-type': 'text/plain' },
): Promise<{ url: string; close: () => void }> {
  const length = String(typeof body === 'string' ? Buffer.byteLength(body) : body.length);
  const server = http.createServer((_request, response) => {
    response.writeHead(200, { ...headers, 'content-length': length });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => server.close() };
}

const rssMiB = (): number => process.memoryUsage().rss / 1024 / 1024;

async function main(): Promise<void> {
  /** Server-side time of each WAGI request (arrival to answer), while `isTiming`. */
  const handlerMs: number[] = [];
  let isTiming = false;
  const driver = createWasmDriver({
    logger: silentLogger(),
    bindHost: '127.0.0.1',
    onRequest: (_taskId, figures) => void (isTiming && handlerMs.push(figures.durationMs)),
  });
  await resumableReady();
  let n = 0;
  const sandbox = new Map<string, string>();
  const start = async (module: string, extra: Partial<TaskSpec> = {}) => {
    const port = await freePort();
    let dir = sandbox.get(module);
    if (!dir) sandbox.set(module, (dir = sandboxWith(module)));
    const spec = wasmTaskSpec({
      module,
      taskId: `bench-${module}-${++n}`,
      sandboxDir: dir,
      ports: [port],
      ...extra,
    });
    await driver.start(spec);
    return { spec, url: `http://127.0.0.1:${port}/` };
  };
  const node = await plainNode();

  // 1. Socket mode, keep-alive. The machine is shared and its load swings within seconds, so
  // the baseline and the service alternate, three rounds each, and each reports its median.
  const socket = await start('http-hello');
  await waitFor('the socket service', () => fetch(socket.url).then((r) => r.ok));
  await load(socket.url, CONNECTIONS, 1); // warm-up (TurboFan, pools)
  const nodeRounds: Load[] = [];
  const socketRounds: Load[] = [];
  for (let round = 0; round < 3; round++) {
    nodeRounds.push(await load(node.url));
    socketRounds.push(await load(socket.url));
  }
  await driver.stop(socket.spec.taskId);

  // 2. WAGI: a fresh instance per request, alternating with the baseline as above.
  // Its baseline answers the handler's own bytes: the same body and headers (x-pacer-fuel-used
  // aside, which only the agent adds), so the ratio compares the per-request work, not sizes.
  const wagi = await start('wagi-hello', { labels: { PACER_WASM_HTTP: 'wagi' } });
  const sample = await fetch(wagi.url);
  const nodeWagi = await plainNode(new Uint8Array(await sample.arrayBuffer()), {
    'content-type': sample.headers.get('content-type') ?? 'text/plain',
    'x-handler': sample.headers.get('x-handler') ?? '',
  });
  await load(wagi.url, CONNECTIONS, 1);
  const wagiRounds: Load[] = [];
  const nodeWagiRounds: Load[] = [];
  for (let round = 0; round < 3; round++) {
    nodeWagiRounds.push(await load(nodeWagi.url));
    wagiRounds.push(await load(wagi.url));
  }
  // Per-request overhead: one request at a time; the handler's own server-side time (request
  // in to answer out: body, instance, CGI parse) is what a Node handler answering at once
  // does not pay.
  const nodeSerial = await load(nodeWagi.url, 1, 3);
  isTiming = true;
  const wagiSerial = await load(wagi.url, 1, 3);
  isTiming = false;
  await driver.stop(wagi.spec.taskId);
  node.close();
  nodeWagi.close();
  const nodeWagiKeepAlive = medianLoad(nodeWagiRounds);
  const nodeKeepAlive = medianLoad(nodeRounds);
  const socketKeepAlive = medianLoad(socketRounds);
  const wagiLoad = medianLoad(wagiRounds);

  // 3. Idle socket-mode services held by this one driver.
  global.gc?.();
  const before = rssMiB();
  const idle: string[] = [];
  const startedAt = performance.now();
  for (let i = 0; i < IDLE; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, IDLE - i) }, () => start('http-hello')),
    );
    idle.push(...batch.map((b) => b.url));
  }
  const startSeconds = (performance.now() - startedAt) / 1000;
  // Every one answers (and so is really running), then goes idle again.
  for (const url of [idle[0], idle[Math.floor(idle.length / 2)], idle[idle.length - 1]]) {
    await waitFor(`idle service ${url}`, () => fetch(url as string).then((r) => r.ok));
  }
  global.gc?.();
  const after = rssMiB();
  const perServiceMiB = (after - before) / IDLE;

  const results = {
    machine: "shared 2-core VM (other engineers' builds and tests ran at the same time)",
    seconds: SECONDS,
    connections: CONNECTIONS,
    socketMode: {
      plainNode: nodeKeepAlive,
      wasm: socketKeepAlive,
      rounds: {
        plainNode: nodeRounds.map((r) => r.requestsPerSecond),
        wasm: socketRounds.map((r) => r.requestsPerSecond),
      },
      ratio: +(socketKeepAlive.requestsPerSecond / nodeKeepAlive.requestsPerSecond).toFixed(3),
      target: '>= 0.5',
    },
    wagi: {
      plainNode: nodeWagiKeepAlive,
      wasm: wagiLoad,
      rounds: {
        plainNode: nodeWagiRounds.map((r) => r.requestsPerSecond),
        wasm: wagiRounds.map((r) => r.requestsPerSecond),
      },
      ratio: +(wagiLoad.requestsPerSecond / nodeWagiKeepAlive.requestsPerSecond).toFixed(3),
      target: '>= 0.25',
      serial: { plainNode: nodeSerial, wasm: wagiSerial },
      overheadP50Ms: +median(handlerMs).toFixed(3),
      overheadP99Ms: +percentile(handlerMs, 99).toFixed(3),
      overheadNote: 'server-side time per request (arrival to answer), one request at a time',
      overheadTarget: '<= 1 ms',
    },
    idleServices: {
      count: IDLE,
      startSeconds: +startSeconds.toFixed(1),
      rssBeforeMiB: +before.toFixed(1),
      rssAfterMiB: +after.toFixed(1),
      perServiceMiB: +perServiceMiB.toFixed(3),
      extrapolated10kMiB: Math.round(perServiceMiB * 10_000),
      target: '10,000 at <= 1 MiB each',
      note: 'RSS of the whole process (main thread, shared threads, instances, sockets) over the count',
    },
    // Through `pacer lb` vs direct and rolling restarts: bench/lb.ts, which `npm run
    // bench:services` runs next (its figures in bench/results/lb.json).
    lb: 'bench/results/lb.json',
  };
  console.log(JSON.stringify(results, null, 2));
  await writeResults('services', results);
  await driver.close();
}

await main();
process.exit(0);
