// Master failover, measured from outside: two `pacer master` processes on one Postgres (and
// Redis), no agents. Each round kills the leader with SIGKILL and times how long until the
// standby accepts `POST /v2/apps` (201); a restarted master rejoins as the next standby. Then
// `DELETE /v2/leader` hand-overs are timed the same way. Baseline in the same run: one POST to
// a healthy leader. Targets (issue 14): failover p50 ≤ 2 s, worst ≤ 3 s; hand-over ≤ 1 s.
// Last, a take-over with a larger state (2,000 apps and 5,000 instances written straight into
// the database): kills timed with warm standbys (the default) and cold ones
// (PACER_STANDBY_REFRESH_MS=0), with the new leader's own time to take the state over (its log).
import {
  apiClient,
  freePort,
  prepareCluster,
  startPacer,
  waitForApi,
  type PacerProcess,
} from '../test/support/cluster.js';
import { waitFor } from '../test/support/wait-for.js';
import { makeApp, makeInstance } from '../src/scheduler/fixtures.js';
import { createPostgresStore } from '../src/store/index.js';
import { median, percentile, writeResults } from './results.js';

const KILLS = Number(process.env.BENCH_FAILOVER_ROUNDS ?? 7);
const HANDOVERS = 5;
const TAKEOVER_KILLS = Number(process.env.BENCH_TAKEOVER_ROUNDS ?? 3);
const LARGE_APPS = 2_000;
const LARGE_INSTANCES = 5_000;

interface Master {
  url: string;
  api: ReturnType<typeof apiClient>;
  proc: PacerProcess;
  port: number;
}

const setup = await prepareCluster();
let serial = 0;

async function startMaster(port: number, env: Record<string, string> = {}): Promise<Master> {
  const url = `http://127.0.0.1:${port}`;
  const proc = startPacer(['master', '--port', String(port), '--host', '127.0.0.1'], {
    ...setup.env,
    PACER_PUBLIC_URL: url,
    LOG_LEVEL: 'warn',
    ...env,
  });
  await waitForApi(url, proc);
  return { url, api: apiClient(url), proc, port };
}

/** Posts a new app to `master` every 20 ms until one is accepted; ms from `since`. */
async function acceptedAfter(master: Master, since: number): Promise<number> {
  for (;;) {
    const res = await master.api
      .post('/v2/apps', { id: `/failover/app-${++serial}`, cmd: 'x.wasm', instances: 0 })
      .catch(() => undefined);
    if (res?.status === 201) return performance.now() - since;
    if (performance.now() - since > 30_000) throw new Error('no master accepted a write in 30 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The master that leads, by `GET /v2/leader` (a follower relays the question to the leader). */
async function leaderOf(masters: Master[]): Promise<Master> {
  for (;;) {
    for (const master of masters) {
      const answer = await master.api.get('/v2/leader').catch(() => undefined);
      const leader = masters.find((m) => `127.0.0.1:${m.port}` === answer?.body?.leader);
      if (answer?.status === 200 && leader) return leader;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The masters of the large-state rounds (stopped at the end whatever happens). */
const large: Master[] = [];

/** 2,000 apps and 5,000 instances put straight into the database, as a big cluster holds. */
async function seedLargeState(): Promise<void> {
  const store = await createPostgresStore({ url: setup.db.url });
  try {
    // Each app runs as many instances as it has; none is placed (no agent): a stable state.
    const countOf = (n: number) =>
      Math.floor(LARGE_INSTANCES / LARGE_APPS) + (n < LARGE_INSTANCES % LARGE_APPS ? 1 : 0);
    const apps = Array.from({ length: LARGE_APPS }, (_, n) =>
      makeApp({ id: `/large/app-${n}`, instances: countOf(n) }),
    );
    for (let n = 0; n < apps.length; n += 500) await store.apps.putMany(apps.slice(n, n + 500));
    const instances = Array.from({ length: LARGE_INSTANCES }, (_, n) =>
      makeInstance({
        instanceId: `large_app-${n % LARGE_APPS}.instance-${n}`,
        appId: `/large/app-${n % LARGE_APPS}`,
        condition: 'Scheduled',
        agentId: undefined,
        host: undefined,
      }),
    );
    await store.instances.putMany(instances);
  } finally {
    await store.close();
  }
}

/** What the new leader logged about taking the state over (pino JSON lines). */
function takeoverLog(master: Master): {
  ms: number;
  isWarm: boolean;
  apps: number;
  instances: number;
} {
  const line = master.proc
    .output()
    .split('\n')
    .reverse()
    .find((l) => l.includes('"msg":"state taken over') || l.includes('"msg":"state loaded"'));
  if (!line) throw new Error(`no take-over line from ${master.url}`);
  return JSON.parse(line) as ReturnType<typeof takeoverLog>;
}

/**
 * Two masters started with `env` on the large state; each round kills the leader, times until
 * the standby accepts a POST and reads the standby's own take-over time, restarts the killed one.
 */
async function timeTakeovers(env: Record<string, string>) {
  const isWarm = env.PACER_STANDBY_REFRESH_MS !== '0';
  const start = async (port: number) => {
    const master = await startMaster(port, { ...env, LOG_LEVEL: 'info' });
    large.push(master);
    return master;
  };
  /** A standby has its copy once it logged the whole read. */
  const warmedUp = (master: Master) =>
    waitFor(
      `${master.url} warm`,
      () => master.proc.output().includes('standby state read whole'),
      60_000,
    );
  const pair = [await start(await freePort()), await start(await freePort())];
  const rounds: { failoverMs: number; takeoverMs: number }[] = [];
  try {
    for (let n = 0; n < TAKEOVER_KILLS; n++) {
      const leader = await leaderOf(pair);
      const standby = pair.find((m) => m !== leader) as Master;
      if (isWarm) await warmedUp(standby);
      const killedAt = performance.now();
      await leader.proc.stop({ hard: true });
      const failoverMs = await acceptedAfter(standby, killedAt);
      const log = takeoverLog(standby);
      if (log.isWarm !== isWarm || log.apps < LARGE_APPS || log.instances < LARGE_INSTANCES)
        throw new Error(`unexpected take-over: ${JSON.stringify(log)}`);
      rounds.push({ failoverMs, takeoverMs: log.ms });
      pair[pair.indexOf(leader)] = await start(leader.port);
    }
  } finally {
    for (const master of pair) await master.proc.stop({ hard: true });
  }
  return rounds;
}

function summary(rounds: { failoverMs: number; takeoverMs: number }[]) {
  const failovers = rounds.map((r) => r.failoverMs);
  const takeovers = rounds.map((r) => r.takeoverMs);
  return {
    takeoverMs: { byRound: takeovers, p50: Math.round(median(takeovers)) },
    failoverMs: { byRound: failovers.map(Math.round), p50: Math.round(median(failovers)) },
  };
}

const masters = [await startMaster(await freePort()), await startMaster(await freePort())];
try {
  let leader = await leaderOf(masters);
  const baseline: number[] = [];
  for (let i = 0; i < 5; i++) baseline.push(await acceptedAfter(leader, performance.now()));

  const failovers: number[] = [];
  for (let round = 0; round < KILLS; round++) {
    leader = await leaderOf(masters);
    const standby = masters.find((m) => m !== leader) as Master;
    const killedAt = performance.now();
    await leader.proc.stop({ hard: true });
    failovers.push(await acceptedAfter(standby, killedAt));
    masters[masters.indexOf(leader)] = await startMaster(leader.port);
  }

  const handovers: number[] = [];
  for (let round = 0; round < HANDOVERS; round++) {
    leader = await leaderOf(masters);
    const standby = masters.find((m) => m !== leader) as Master;
    const askedAt = performance.now();
    const res = await leader.api.delete('/v2/leader');
    if (res.status !== 200) throw new Error(`DELETE /v2/leader answered ${res.status}`);
    handovers.push(await acceptedAfter(standby, askedAt));
  }

  // A larger state, written behind the masters' backs: both restart on it.
  for (const master of masters) await master.proc.stop({ hard: true });
  await seedLargeState();
  const takeover = {
    warm: await timeTakeovers({}),
    cold: await timeTakeovers({ PACER_STANDBY_REFRESH_MS: '0' }),
  };

  const round = (n: number) => Math.round(n);
  const results = {
    postToHealthyLeaderMs: round(median(baseline)),
    failoverMs: {
      byRound: failovers.map(round),
      p50: round(median(failovers)),
      worst: round(Math.max(...failovers)),
    },
    handoverMs: {
      byRound: handovers.map(round),
      p50: round(median(handovers)),
      p90: round(percentile(handovers, 90)),
    },
    takeoverWithLargeState: {
      apps: LARGE_APPS,
      instances: LARGE_INSTANCES,
      warm: summary(takeover.warm),
      cold: summary(takeover.cold),
    },
    targets: {
      failoverP50AtMost2s: median(failovers) <= 2_000,
      failoverWorstAtMost3s: Math.max(...failovers) <= 3_000,
      handoverAtMost1s: Math.max(...handovers) <= 1_000,
    },
  };
  console.log(results);
  console.log(
    `failover p50 ${results.failoverMs.p50} ms = ${(median(failovers) / median(baseline)).toFixed(0)}× a POST to a healthy leader`,
  );
  await writeResults('failover', results);
} finally {
  for (const master of [...masters, ...large]) await master.proc.stop({ hard: true });
  await setup.db.drop();
}
