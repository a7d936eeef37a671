// Master failover, measured from outside: two `pacer master` processes on one Postgres (and
// Redis), no agents. Each round kills the leader with SIGKILL and times how long until the
// standby accepts `POST /v2/apps` (201); a restarted master rejoins as the next standby. Then
// `DELETE /v2/leader` hand-overs are timed the same way. Baseline in the same run: one POST to
// a healthy leader. Targets (issue 14): failover p50 ≤ 2 s, worst ≤ 3 s; hand-over ≤ 1 s.
import {
  apiClient,
  freePort,
  prepareCluster,
  startPacer,
  waitForApi,
  type PacerProcess,
} from '../test/support/cluster.js';
import { median, percentile, writeResults } from './results.js';

const KILLS = Number(process.env.BENCH_FAILOVER_ROUNDS ?? 7);
const HANDOVERS = 5;

interface Master {
  url: string;
  api: ReturnType<typeof apiClient>;
  proc: PacerProcess;
  port: number;
}

const setup = await prepareCluster();
let serial = 0;

async function startMaster(port: number): Promise<Master> {
  const url = `http://127.0.0.1:${port}`;
  const proc = startPacer(['master', '--port', String(port), '--host', '127.0.0.1'], {
    ...setup.env,
    PACER_PUBLIC_URL: url,
    LOG_LEVEL: 'warn',
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
  for (const master of masters) await master.proc.stop({ hard: true });
  await setup.db.drop();
}
