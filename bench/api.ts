// `npm run bench:api`: HTTP throughput of the API with 1,000 apps stored, on `pacer dev`'s
// embedded Postgres (PGlite) and on the master with Postgres, next to a bare Hono hello-world
// as the ceiling measured in the same run. autocannon runs in this process; each server runs
// in its own child process (this file with `--serve <kind>`), on the compiled code in dist/
// that `pacer` runs (tsx's transform adds its own calls). The cost of authentication is measured
// on a pair of masters in one more process, one with it off and one with it on (a token confined
// to /bench), in alternating rounds: the ratio of the two. Writes bench/results/api.json.
import { fork } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';
import type { Store } from '../src/store/index.js';
import { writeResults } from './results.js';
import type * as AppNormalizeModule from '../src/api/v2/wire/app-normalize.js';
import type * as DomainModule from '../src/domain/index.js';
import type * as ApiHttpServerModule from '../src/api/http-server.js';
import type * as BusModule from '../src/bus/index.js';
import type * as LibModule from '../src/lib/index.js';
import type * as MasterMainModule from '../src/cli/start-master.js';
import type * as StoreModule from '../src/store/index.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const APPS = 1000;
const POST_WARM_UP_SECONDS = 2;
/** Alternating runs of the ceiling and GET /v2/apps/{id}, each of ROUND_SECONDS. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ROUND_SECONDS = 3;
/** Warm-up runs of GET /v2/apps/{id} on each server, in turns, before any round counts. */
const WARM_UP_TURNS = Number(process.env.BENCH_WARM_UP_TURNS ?? 4);
/** Alternating runs of POST /v2/apps with authentication off and on. */
const POST_ROUNDS = Number(process.env.BENCH_POST_ROUNDS ?? 8);
/** Alternating runs of GET /v2/apps/{id} with authentication off and on. */
const AUTH_GET_ROUNDS = Number(process.env.BENCH_AUTH_GET_ROUNDS ?? 12);
/** Alternating runs of GET /v2/apps (1,000 apps) with authentication off and on. */
const AUTH_LIST_ROUNDS = Number(process.env.BENCH_AUTH_LIST_ROUNDS ?? 4);
/** Length of each run of the authentication rounds: short, so drift hits both sides alike. */
const AUTH_ROUND_SECONDS = 2;
/** The bootstrap secret of the authenticated servers (a throwaway, local to the bench). */
const BOOTSTRAP_TOKEN = 'bench-bootstrap-secret-0123456789';
type Kind = 'hello' | 'dev' | 'postgres';
/**
 * BENCH_AUTH_CONTROL=1: the pair's second master also runs without authentication, so the
 * ratios show the measurement's own noise (an A/A test) rather than authentication's cost.
 */
const IS_AUTH_CONTROL = process.env.BENCH_AUTH_CONTROL === '1';
/** BENCH_API_AUTH=0: skip the authentication pair's rounds (a quicker run of the other figures). */
const IS_AUTH_MEASURED = process.env.BENCH_API_AUTH !== '0';
/**
 * Extra Node flags for the servers, from `PACER_NODE_ARGS` (space-separated), as
 * test/support/cluster.ts takes them: e.g. `--cpu-prof --cpu-prof-dir=/tmp/profiles` (a server
 * writes its profile when it exits on SIGTERM, see `serve`).
 */
const NODE_ARGS = (process.env.PACER_NODE_ARGS ?? '').split(' ').filter(Boolean);
/** A compiled module of dist/, as `bin/pacer.js` loads it (`npm run build` first). */
function dist<T>(path: string): Promise<T> {
  return import(new URL(`../dist/${path}`, import.meta.url).href) as Promise<T>;
}

// ---------------------------------------------------------------------------------------------
// Server side (child process).

async function seed(store: Store): Promise<void> {
  const now = new Date().toISOString();
  const agents = Array.from({ length: 10 }, (_, n) => `bench-agent-${n}`);
  for (const agentId of agents) {
    await store.agents.put({
      agentId,
      hostname: `${agentId}.bench`,
      attributes: {},
      capabilities: ['wasm'],
      total: { cpus: 64, memMiB: 65536, diskMiB: 65536, ports: [[31000, 32000]] },
      free: { cpus: 0, memMiB: 0, diskMiB: 0, ports: [] },
      runningTaskIds: [],
      registeredAt: now,
      lastHeartbeatAt: now,
      state: 'active',
    });
  }
  const { normalizeApp } = await dist<typeof AppNormalizeModule>('api/v2/wire/app-normalize.js');
  const { newInstanceId } = await dist<typeof DomainModule>('domain/index.js');
  for (let n = 0; n < APPS; n++) {
    const id = `/bench/group-${n % 20}/app-${n}`;
    const result = normalizeApp(
      {
        id,
        cmd: 'hello.wasm --n ' + String(n),
        cpus: 0.01,
        mem: 16,
        instances: 1,
        labels: { n: String(n) },
      },
      { id, features: { secrets: false } },
    );
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    await store.apps.put({
      ...result.value,
      version: now,
      versionInfo: { lastScalingAt: now, lastConfigChangeAt: now },
    });
    await store.instances.put({
      instanceId: newInstanceId(id),
      appId: id,
      appVersion: now,
      goal: 'Running',
      condition: 'Running',
      incarnation: 1,
      agentId: agents[n % agents.length],
      host: `${agents[n % agents.length]}.bench`,
      ports: [31000 + (n % 1000)],
      resources: { cpus: 0.01, memMiB: 16, diskMiB: 0 },
      createdAt: now,
      stagedAt: now,
      startedAt: now,
      conditionChangedAt: now,
      healthCheckResults: [],
      lastStatusSeq: 1,
      launchNotBefore: 0,
    });
  }
}

async function serve(kind: Kind): Promise<void> {
  const { startHttpServer } = await dist<typeof ApiHttpServerModule>('api/http-server.js');
  if (kind === 'hello') {
    const { Hono } = await import('hono');
    const app = new Hono();
    app.get('/', (c) => c.text('hello'));
    const server = await startHttpServer({ app, port: 0, host: '127.0.0.1' });
    process.send?.({ port: server.port });
    return;
  }
  const { createMemoryBus } = await dist<typeof BusModule>('bus/index.js');
  const { silentLogger, systemClock } = await dist<typeof LibModule>('lib/index.js');
  const { startMaster } = await dist<typeof MasterMainModule>('cli/start-master.js');
  const { createPgliteStore, createPostgresStore } =
    await dist<typeof StoreModule>('store/index.js');
  /** A master on its own seeded store (`where`: a data directory or a database URL). */
  async function master(where: string | undefined, isSecured: boolean, name: string) {
    const store =
      kind === 'dev'
        ? await createPgliteStore({ dataDir: where })
        : await createPostgresStore({ url: where ?? '' });
    await seed(store);
    const started = await startMaster({
      store,
      bus: createMemoryBus(),
      clock: systemClock,
      logger: silentLogger(),
      masterId: `bench-${kind}-${name}`,
      port: 0,
      host: '127.0.0.1',
      publicUrl: 'http://127.0.0.1:8080',
      version: 'bench',
      agentTimeoutMs: 3_600_000,
      // As `pacer dev` runs it: alone on its embedded store.
      isSoleMaster: kind === 'dev',
      auth:
        isSecured && !IS_AUTH_CONTROL
          ? { bootstrapToken: BOOTSTRAP_TOKEN, insecure: false }
          : { insecure: false },
    });
    return started.port;
  }
  const port = await master(process.env.BENCH_STORE, false, 'off');
  // The authentication pair: a second master, with authentication on, in the same process.
  const securedPort = process.env.BENCH_SECURED_STORE
    ? await master(process.env.BENCH_SECURED_STORE, true, 'on')
    : undefined;
  process.send?.({ port, securedPort });
}

// ---------------------------------------------------------------------------------------------
// Load side (this process).

interface Figures {
  requestsPerSecond: number;
  p99Ms: number;
  p50Ms: number;
  non2xx: number;
  /** Answers by status code when some were not 2xx (what went wrong). */
  statusCodes?: Record<string, number>;
  errors: number;
  /**
   * CPU time the server process spent per request answered (all its threads), when measured:
   * unlike requests/s, it does not depend on how the 2 cores were shared with the load
   * generator and the other server during the run.
   */
  cpuMsPerRequest?: number;
}

/** CPU time of process `pid` so far, all threads (utime + stime of /proc/<pid>/stat), in ms. */
async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces), which ends at the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime: fields 14 and 15
  return ticks * 10; // USER_HZ is 100 on Linux
}

/**
 * The body of a POST /v2/apps creating app `id` (no instances: placement is not measured). No
 * ports: each server takes ~10,000 POSTs in a run, and an app with Marathon's default port
 * definition takes a service port of 10000–20000, so a fast server ran out of them (422).
 */
function newApp(id: string): string {
  return JSON.stringify({
    id,
    cmd: 'hello.wasm',
    cpus: 0.01,
    mem: 16,
    instances: 0,
    portDefinitions: [],
  });
}

async function load(options: {
  url: string;
  /** `Authorization` header, when the server authenticates. */
  authorization?: string;
  method?: 'GET' | 'POST';
  body?: (n: number) => string;
  seconds?: number;
  /** The server's process, to measure its CPU time per request. */
  server?: ChildProcess;
}): Promise<Figures> {
  let n = 0;
  const { body, server } = options;
  const cpuBefore = server?.pid === undefined ? undefined : await cpuMs(server.pid);
  const result = await autocannon({
    url: options.url,
    connections: CONNECTIONS,
    duration: options.seconds ?? SECONDS,
    method: options.method ?? 'GET',
    headers: {
      'content-type': 'application/json',
      ...(options.authorization ? { authorization: options.authorization } : {}),
    },
    ...(body
      ? {
          requests: [
            {
              method: 'POST',
              setupRequest: (request: autocannon.Request) => ({ ...request, body: body(n++) }),
            },
          ],
        }
      : {}),
  });
  return {
    requestsPerSecond: Math.round(result.requests.average),
    p99Ms: result.latency.p99,
    p50Ms: result.latency.p50,
    non2xx: result.non2xx,
    ...(result.non2xx > 0
      ? {
          statusCodes: Object.fromEntries(
            Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => [
              code,
              count ?? 0,
            ]),
          ),
        }
      : {}),
    errors: result.errors,
    ...(cpuBefore === undefined || server?.pid === undefined
      ? {}
      : {
          cpuMsPerRequest:
            Math.round((((await cpuMs(server.pid)) - cpuBefore) / result.requests.total) * 1000) /
            1000,
        }),
  };
}

/** A server process: `store` for its master, and `securedStore` for a second, authenticated one. */
function start(
  kind: Kind,
  stores: { store?: string; securedStore?: string } = {},
): Promise<{ child: ChildProcess; base: string; securedBase?: string }> {
  const child = fork(new URL(import.meta.url).pathname, ['--serve', kind], {
    execArgv: ['--import', 'tsx', ...NODE_ARGS],
    env: {
      ...process.env,
      ...(stores.store ? { BENCH_STORE: stores.store } : {}),
      ...(stores.securedStore ? { BENCH_SECURED_STORE: stores.securedStore } : {}),
    },
    stdio: 'inherit',
  });
  const base = (port: number) => `http://127.0.0.1:${port}`;
  return new Promise((resolve, reject) => {
    child.once('message', (message: { port: number; securedPort?: number }) =>
      resolve({
        child,
        base: base(message.port),
        ...(message.securedPort ? { securedBase: base(message.securedPort) } : {}),
      }),
    );
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${String(code)}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** A token confined to `/bench` (every app action), created with the bootstrap secret. */
async function benchToken(base: string): Promise<string> {
  const answer = await fetch(`${base}/v2/acl/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${BOOTSTRAP_TOKEN}` },
    body: JSON.stringify({
      name: 'bench',
      grants: [{ path: '/bench', actions: ['view', 'create', 'update', 'delete'] }],
    }),
  });
  if (answer.status !== 201) throw new Error(`creating the bench token: ${answer.status}`);
  return `Bearer ${((await answer.json()) as { secret: string }).secret}`;
}

/** Both runs, `off` first or second as told; answers [off, on]. */
async function inTurn(options: {
  off: () => Promise<Figures>;
  on: () => Promise<Figures>;
  isOffFirst: boolean;
}): Promise<[Figures, Figures]> {
  if (options.isOffFirst) {
    const off = await options.off();
    return [off, await options.on()];
  }
  const on = await options.on();
  return [await options.off(), on];
}

/**
 * Authentication on against off, round by round: the throughput ratio (requests/s, on/off) and
 * the capacity ratio (the server's CPU ms per request, off/on: what bounds throughput on a
 * machine of its own). Both servers share 2 cores with the load generator, so single rounds
 * swing either way (0.65–1.72 seen, for both ratios alike); the medians are the figures.
 */
class AuthRatios {
  private readonly throughput: number[] = [];
  private readonly capacity: number[] = [];

  add(off: Figures, on: Figures): void {
    this.throughput.push(on.requestsPerSecond / off.requestsPerSecond);
    if (off.cpuMsPerRequest && on.cpuMsPerRequest)
      this.capacity.push(off.cpuMsPerRequest / on.cpuMsPerRequest);
  }

  summary() {
    return {
      capacityRatio: round2(median(this.capacity)),
      capacityRatioByRound: this.capacity.map(round2),
      throughputRatio: round2(median(this.throughput)),
      throughputRatioByRound: this.throughput.map(round2),
    };
  }
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const round2 = (value: number) => Math.round(value * 100) / 100;

/**
 * The four figures of one server, each read next to a fresh hello-world ceiling (the machine is
 * shared, so a ceiling measured once would compare figures taken under different loads), and
 * the cost of authentication: a pair of masters in one other process, one with it off and one
 * with it on, measured in alternating rounds. In one process, both run on the same heap and
 * the same compiled module code: two processes of the same server differ by how their JIT
 * happened to compile the hot path (two identical servers measured 0.95–1.16 apart), more than
 * the cost measured.
 */
async function measureApi(options: {
  kind: Kind;
  helloBase: string;
  /** Three stores (data directories or database URLs): the server's, and the pair's two. */
  stores: [string, string, string];
}) {
  const { kind, helloBase } = options;
  const [alone, pairOff, pairOn] = options.stores;
  const [{ child, base }, pair] = await Promise.all([
    start(kind, { store: alone }),
    start(kind, { store: pairOff, securedStore: pairOn }),
  ]);
  try {
    const offBase = pair.base;
    const onBase = pair.securedBase ?? '';
    const authorization = IS_AUTH_CONTROL ? '' : await benchToken(onBase);
    const unauthenticated = await fetch(`${onBase}/v2/apps/bench/group-1/app-1`);
    if (unauthenticated.status !== 401 && !IS_AUTH_CONTROL)
      throw new Error('the authenticated server answered without credentials');
    // Warm-up, in turns: a fresh server needs ~20 s of load before its CPU per request settles
    // (JIT tiers), and the authenticated one settles later; rounds before that measure warm-up.
    for (let turn = 0; turn < WARM_UP_TURNS; turn++) {
      for (const [server, auth] of [[base], [offBase], [onBase, authorization]] as const) {
        await load({
          url: `${server}/v2/apps/bench/group-1/app-1`,
          seconds: ROUND_SECONDS,
          authorization: auth,
        });
      }
    }
    // The machine is shared and its speed drifts within seconds: each GET run is paired with a
    // ceiling run right before it, and the median round counts.
    const rounds: { ceiling: Figures; getApp: Figures; share: number }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const ceiling = await load({ url: `${helloBase}/`, seconds: ROUND_SECONDS });
      const getApp = await load({
        url: `${base}/v2/apps/bench/group-${round}/app-${round}`,
        seconds: ROUND_SECONDS,
        server: child,
      });
      rounds.push({ ceiling, getApp, share: getApp.requestsPerSecond / ceiling.requestsPerSecond });
    }
    const byShare = [...rounds].sort((a, b) => a.share - b.share);
    const middle = byShare[Math.floor(byShare.length / 2)]!;
    const { ceiling, getApp } = middle;
    const figures = {
      helloWorldCeiling: ceiling,
      getApp,
      getApps: await load({ url: `${base}/v2/apps` }),
      getTasks: await load({ url: `${base}/v2/tasks` }),
      // Not a target: the POST path is cold until here (JIT, first batches); its own apps.
      postAppsWarmUp: await load({
        url: `${base}/v2/apps`,
        method: 'POST',
        seconds: POST_WARM_UP_SECONDS,
        body: (n) => newApp(`/bench/warm-up/${kind}-${n}`),
      }),
      postApps: await load({
        url: `${base}/v2/apps`,
        method: 'POST',
        body: (n) => newApp(`/bench/new/${kind}-${n}`),
      }),
    };
    const getAppShareByRound = byShare.map((r) => Math.round(r.share * 100) / 100);
    if (!IS_AUTH_MEASURED)
      return { ...figures, getAppShareByRound, targets: quickTargets(kind, figures, middle.share) };
    const authentication = await measureAuthentication({
      kind,
      offBase,
      onBase,
      authorization,
      server: pair.child,
    });
    const worst = Math.min(...Object.values(authentication).map((r) => r.capacityRatio));
    const worstThroughput = Math.min(
      ...Object.values(authentication).map((r) => r.throughputRatio),
    );
    console.log(
      `${kind}: authentication on/off, capacity (requests per CPU second of the server) — ` +
        `GET /v2/apps/{id} ${authentication.getApp.capacityRatio}, POST /v2/apps ` +
        `${authentication.postApps.capacityRatio}, GET /v2/apps ${authentication.getApps.capacityRatio}; ` +
        `throughput — ${authentication.getApp.throughputRatio}, ${authentication.postApps.throughputRatio}, ` +
        `${authentication.getApps.throughputRatio}`,
    );
    const share = Math.round(middle.share * 100) / 100;
    return {
      ...figures,
      authentication,
      getAppShareByRound,
      targets: {
        getAppShareOfCeiling: share,
        getAppShareOfCeilingAtLeast50Percent: share >= 0.5,
        getAppP99AtMost10Ms: getApp.p99Ms <= 10,
        postAppsAtLeast500PerSecond: figures.postApps.requestsPerSecond >= 500,
        // Issue 12's targets: the share ≥ 80 %, and POST ≥ 1,500/s on Postgres.
        getAppShareOfCeilingAtLeast80Percent: share >= 0.8,
        ...(kind === 'postgres'
          ? { postAppsAtLeast1500PerSecond: figures.postApps.requestsPerSecond >= 1500 }
          : {}),
        authenticationWithin10Percent: worst >= 0.9 && worstThroughput >= 0.9,
      },
    };
  } finally {
    await Promise.all([stop(child), stop(pair.child)]);
  }
}

/** The targets of issue 12 alone, for a run without the authentication rounds. */
function quickTargets(kind: Kind, figures: { postApps: Figures }, share: number) {
  return {
    getAppShareOfCeiling: Math.round(share * 100) / 100,
    getAppShareOfCeilingAtLeast80Percent: share >= 0.8,
    ...(kind === 'postgres'
      ? { postAppsAtLeast1500PerSecond: figures.postApps.requestsPerSecond >= 1500 }
      : {}),
  };
}

/**
 * Authentication off against on, in the pair's process: GET /v2/apps/{id}, GET /v2/apps and
 * POST /v2/apps in alternating rounds, the side that goes first taking turns so that drift
 * favours neither. The CPU per request is the process's, which holds both masters: the idle
 * one's background work counts on both sides alike.
 */
async function measureAuthentication(options: {
  kind: Kind;
  offBase: string;
  onBase: string;
  authorization: string;
  server: ChildProcess;
}) {
  const { kind, offBase, onBase, authorization, server } = options;
  const both = (run: (base: string, auth?: string) => Promise<Figures>, round: number) =>
    inTurn({
      off: () => run(offBase),
      on: () => run(onBase, authorization),
      isOffFirst: round % 2 === 0,
    });
  const checked = (what: string, on: Figures) => {
    if (on.non2xx > 0)
      throw new Error(`authenticated ${what} answered non-2xx: ${JSON.stringify(on.statusCodes)}`);
  };
  const getRatios = new AuthRatios();
  for (let round = 0; round < AUTH_GET_ROUNDS; round++) {
    const url = `/v2/apps/bench/group-${round % 20}/app-${round}`;
    const [off, on] = await both(
      (base, auth) =>
        load({ url: `${base}${url}`, seconds: AUTH_ROUND_SECONDS, authorization: auth, server }),
      round,
    );
    checked('GET /v2/apps/{id}', on);
    getRatios.add(off, on);
  }
  // GET /v2/apps before the POSTs: both masters still hold the same 1,000 apps.
  const listRatios = new AuthRatios();
  for (let round = 0; round < AUTH_LIST_ROUNDS; round++) {
    const [off, on] = await both(
      (base, auth) =>
        load({ url: `${base}/v2/apps`, seconds: AUTH_ROUND_SECONDS, authorization: auth, server }),
      round,
    );
    checked('GET /v2/apps', on);
    listRatios.add(off, on);
  }
  // POST /v2/apps: the same warm-up of POSTs on both, then the rounds, each on new app ids.
  const post = (tag: string, seconds: number) => (base: string, auth?: string) =>
    load({
      url: `${base}/v2/apps`,
      method: 'POST',
      seconds,
      authorization: auth,
      body: (n) => newApp(`/bench/${tag}/${kind}-${auth ? 'on' : 'off'}-${n}`),
      server,
    });
  await both(post('warm-up', POST_WARM_UP_SECONDS + SECONDS), 0);
  const postRatios = new AuthRatios();
  for (let round = 0; round < POST_ROUNDS; round++) {
    const [off, on] = await both(post(`rounds-${round}`, AUTH_ROUND_SECONDS), round);
    checked('POST /v2/apps', on);
    postRatios.add(off, on);
  }
  return {
    getApp: getRatios.summary(),
    postApps: postRatios.summary(),
    getApps: listRatios.summary(),
  };
}

/** Three fresh databases on the test Postgres: the server's own and the pair's two. */
async function threeDatabases(
  create: () => Promise<{ url: string; drop: () => Promise<void> }>,
): Promise<{ urls: [string, string, string]; drop: () => Promise<unknown> }> {
  const dbs = await Promise.all([create(), create(), create()]);
  return {
    urls: [dbs[0].url, dbs[1].url, dbs[2].url],
    drop: () => Promise.all(dbs.map((db) => db.drop())),
  };
}

async function main(): Promise<void> {
  const hello = await start('hello');
  try {
    await load({ url: `${hello.base}/` }); // warm-up
    const helloBase = hello.base;
    // In a data directory, as `pacer dev` keeps its state (not in memory).
    const dataDir = await mkdtemp(path.join(tmpdir(), 'pacer-bench-api-'));
    // BENCH_API_ONLY=postgres (or dev) measures that server alone (and writes no results).
    const only = process.env.BENCH_API_ONLY;
    if (only === 'dev') {
      const dev = await measureApi({
        kind: 'dev',
        helloBase,
        stores: [path.join(dataDir, 'alone'), path.join(dataDir, 'off'), path.join(dataDir, 'on')],
      }).finally(() => rm(dataDir, { recursive: true, force: true }));
      console.log('pacer dev (PGlite)', dev);
      return;
    }
    if (only === 'postgres') {
      const { createTestDatabase } = await import('../test/support/services.js');
      const dbs = await threeDatabases(createTestDatabase);
      try {
        console.log(
          'master on Postgres',
          await measureApi({ kind: 'postgres', helloBase, stores: dbs.urls }),
        );
      } finally {
        await dbs.drop();
      }
      return;
    }
    const dev = await measureApi({
      kind: 'dev',
      helloBase,
      stores: [path.join(dataDir, 'alone'), path.join(dataDir, 'off'), path.join(dataDir, 'on')],
    }).finally(() => rm(dataDir, { recursive: true, force: true }));
    console.log('pacer dev (PGlite)', dev);
    let postgres: Awaited<ReturnType<typeof measureApi>> | { skipped: string };
    const { hasService, createTestDatabase } = await import('../test/support/services.js');
    if (await hasService('postgres')) {
      const dbs = await threeDatabases(createTestDatabase);
      try {
        postgres = await measureApi({ kind: 'postgres', helloBase, stores: dbs.urls });
      } finally {
        await dbs.drop();
      }
    } else {
      postgres = { skipped: 'Postgres does not answer' };
    }
    console.log('master on Postgres', postgres);
    await writeResults('api', {
      setup: {
        appsStored: APPS,
        tasksStored: APPS,
        secondsPerRun: SECONDS,
        connections: CONNECTIONS,
        cpus: (await import('node:os')).cpus().length,
        node: process.version,
        // An A/A run (BENCH_AUTH_CONTROL=1): the authentication ratios are the noise floor.
        ...(IS_AUTH_CONTROL ? { authControl: true } : {}),
        notes: [
          'autocannon runs in this process; every server runs in its own child process.',
          `GET /v2/apps/{id} runs ${ROUNDS} rounds of ${ROUND_SECONDS} s, each right after a ${ROUND_SECONDS} s run of the hello-world ceiling; the round with the median share is reported.`,
          'POST /v2/apps creates apps with instances: 0 (placement is measured by bench:scheduler) and portDefinitions: [] (the ~10,000 apps of a run would use up the service ports).',
          'dev keeps its PGlite database in a data directory, as `pacer dev` does.',
          `POST /v2/apps is measured after a ${POST_WARM_UP_SECONDS} s warm-up of POSTs (postAppsWarmUp), whose apps stay stored.`,
          'GET /v2/apps and GET /v2/tasks answer ~720 KB and ~350 KB for 1,000 apps and tasks.',
          `authentication: a pair of masters of the same kind in one process of their own (same heap, same compiled code; two processes of one server differ by their JIT's luck by more than the cost measured), one with PACER_BOOTSTRAP_TOKEN, called with a Bearer token confined to /bench (view, create, update, delete); the pair and the lone server first get ${WARM_UP_TURNS} warm-up runs of ${ROUND_SECONDS} s of GET /v2/apps/{id} in turns (a fresh server's CPU per request settles only after ~20 s of load), then GET /v2/apps/{id} runs off and on in ${AUTH_GET_ROUNDS} rounds of ${AUTH_ROUND_SECONDS} s, GET /v2/apps in ${AUTH_LIST_ROUNDS}, and after an equal POST warm-up POST /v2/apps in ${POST_ROUNDS}, alternating which goes first. Two ratios, the median of the rounds: throughput (requests/s on/off) and capacity (the pair process's CPU ms per request, off/on, from /proc/<pid>/stat). Single rounds swing widely for both (2 cores shared by the load generator and the servers).`,
        ],
      },
      dev,
      postgres,
    });
  } finally {
    await stop(hello.child);
  }
}

const serveAt = process.argv.indexOf('--serve');
if (serveAt >= 0) {
  // Stopped with SIGTERM: exit as a process does, so that --cpu-prof and the like write out.
  process.once('SIGTERM', () => process.exit(0));
  await serve(process.argv[serveAt + 1] as Kind);
} else await main();
