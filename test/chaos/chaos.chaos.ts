// `npm run chaos`: 3 masters and 4 agents as real processes on Postgres and a private Redis, a
// client creating, scaling, updating and deleting apps through the API all along, and one fault
// after another (issue 14's table). After each fault the invariants are checked (lost writes,
// fencing, exact counts, duplicates, reconciliation, the event stream) and a row is added to the
// table printed at the end (also bench/results/chaos.json). Each fault is its own test and fails
// on any violation; a process that dies without being killed is restarted and reported.
// CHAOS_MASTERS, CHAOS_AGENTS, CHAOS_CUT_MS (default 30 000) and CHAOS_LEASE_TTL_MS size the run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeResults } from '../../bench/results.js';
import { hasService } from '../support/services.js';
import { waitFor } from '../support/wait-for.js';
import { startChaosCluster, type ChaosCluster, type ChaosMaster } from './support/chaos-cluster.js';
import { checkInvariants, violationCount, type Findings } from './support/invariants.js';
import { createWorkload, type Workload } from './support/workload.js';

const ok = (await hasService('postgres')) && (await hasService('redis'));
const MASTERS = Number(process.env.CHAOS_MASTERS ?? 3);
const AGENTS = Number(process.env.CHAOS_AGENTS ?? 4);
const CUT_MS = Number(process.env.CHAOS_CUT_MS ?? 30_000);
/** The masters' lease (`pacer master`'s 1.5 s by default); longer on a machine under load. */
const LEASE_TTL_MS = Number(process.env.CHAOS_LEASE_TTL_MS ?? 1_500);
const FAULT_TIMEOUT_MS = 240_000 + CUT_MS;

interface Row {
  fault: string;
  acknowledged: number;
  unknown: number;
  lost: number;
  violations: number;
  failoverMs?: number;
  settleMs: number;
  crashed: string[];
}

describe.skipIf(!ok)('chaos', () => {
  let cluster: ChaosCluster;
  let workload: Workload;
  const rows: Row[] = [];
  let faults = 0;

  beforeAll(async () => {
    cluster = await startChaosCluster({
      masters: MASTERS,
      agents: AGENTS,
      redisPersistent: true,
      leaseTtlMs: LEASE_TTL_MS,
    });
    const uri = await cluster.uploadService();
    workload = createWorkload({ cluster, prefix: 'app', slots: 8, fetchUri: uri, seed: 14 });
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
    await workload?.stop();
    if (rows.length === 0) return;
    console.table(
      rows.map((r) => ({ ...r, crashed: r.crashed.length, failoverMs: r.failoverMs ?? '' })),
    );
    const total = rows.reduce((n, r) => n + r.violations, 0);
    const lost = rows.reduce((n, r) => n + r.lost, 0);
    console.log(`lost acknowledged writes: ${lost}; invariant violations: ${total}`);
    await writeResults('chaos', {
      masters: MASTERS,
      agents: AGENTS,
      cutMs: CUT_MS,
      lostAcknowledgedWrites: lost,
      invariantViolations: total,
      rows,
    });
  }, 120_000);

  /** Ms from `since` until a write is accepted (a probe app with no instances). */
  async function acceptedAfter(since: number): Promise<number> {
    await waitFor(
      'a write to be accepted',
      async () => {
        const res = await cluster
          .call('PUT', '/v2/apps/chaos/probe?force=true', {
            instances: 0,
            cmd: 'probe.wasm',
          })
          .catch(() => undefined);
        return res !== undefined && res.status < 300;
      },
      { timeoutMs: 60_000, maxIntervalMs: 20 },
    );
    return Math.round(performance.now() - since);
  }

  /** What each master said: the only account of why the cluster did not recover. */
  function printMasters(): void {
    for (const master of cluster.masters) {
      // Without the proxied requests' own errors, which repeat one cause many times.
      const lines = master.proc
        .output()
        .split('\n')
        .filter((line) => !line.includes('Could not determine the current leader'))
        .map((line) => line.slice(0, 400));
      console.log(`--- ${master.url}:\n${lines.slice(-40).join('\n')}`);
    }
  }

  /** Runs `inject` while the workload writes, then checks everything and records the row. */
  async function underFault(
    fault: string,
    inject: () => Promise<{ failoverMs?: number } | void>,
  ): Promise<void> {
    const n = ++faults;
    workload.start();
    const before = workload.stats.acknowledged;
    await waitFor('writes before the fault', () => workload.stats.acknowledged >= before + 5, {
      timeoutMs: 60_000,
    }).catch((error: unknown) => {
      throw new Error(`${String(error)}; ${JSON.stringify(workload.stats)}`);
    });
    const measured = (await inject()) ?? {};
    const during = workload.stats.acknowledged;
    await waitFor('writes after the fault', () => workload.stats.acknowledged >= during + 5, {
      timeoutMs: 60_000,
    }).catch((error: unknown) => {
      printMasters();
      throw new Error(`${String(error)}; ${JSON.stringify(workload.stats)}`);
    });
    await workload.stop();
    const crashed = await cluster.reviveCrashed();
    const findings: Findings & { settleMs: number } = await checkInvariants({
      cluster,
      workload,
      marker: `/chaos/marker-${n}`,
    }).catch((error: unknown) => {
      printMasters();
      throw error;
    });
    const row: Row = {
      fault,
      acknowledged: workload.stats.acknowledged,
      unknown: workload.stats.unknown,
      lost: findings.lostWrites.length,
      violations: violationCount(findings),
      ...(measured.failoverMs === undefined ? {} : { failoverMs: measured.failoverMs }),
      settleMs: findings.settleMs,
      crashed,
    };
    rows.push(row);
    if (row.violations > 0 || crashed.length > 0) {
      console.log(fault, findings, crashed);
      printMasters();
      if (findings.convergence.length > 0) {
        const queue = await cluster.call('GET', '/v2/queue').catch(() => undefined);
        console.log('queue', JSON.stringify(queue?.body).slice(0, 3000));
        for (const agent of cluster.agents)
          console.log(agent.hostname, agent.proc.output().slice(-1500));
      }
    }
    expect(findings.lostWrites).toEqual([]);
    expect(findings.fencing).toEqual([]);
    expect(findings.duplicates).toEqual([]);
    expect(findings.convergence).toEqual([]);
    expect(findings.reconciliation).toEqual([]);
    expect(findings.events).toEqual([]);
  }

  for (const round of [1, 2, 3])
    it(
      `kill -9 of the leader (${round} of 3)`,
      () =>
        underFault(`kill -9 leader #${round}`, async () => {
          const leader = await cluster.leader();
          const killedAt = performance.now();
          await cluster.killMaster(leader, false);
          const failoverMs = await acceptedAfter(killedAt);
          await cluster.startMaster(leader.port, { pg: leader.pg });
          return { failoverMs };
        }),
      FAULT_TIMEOUT_MS,
    );

  it(
    'SIGSTOP of the leader past its lease, then SIGCONT',
    () =>
      underFault('SIGSTOP leader, SIGCONT', async () => {
        const leader = await cluster.leader();
        const mark = await cluster.audit.mark();
        const pausedAt = performance.now();
        cluster.pause(leader);
        const failoverMs = await acceptedAfter(pausedAt);
        const next = await cluster.leader();
        cluster.resume(leader);
        await waitFor(
          'the woken master to follow or die',
          async () => {
            if (leader.proc.child.exitCode !== null) return true;
            const answer = await leader.api.get('/v2/leader');
            return answer.body?.leader === `127.0.0.1:${next.port}`;
          },
          { timeoutMs: 60_000, maxIntervalMs: 500 },
        );
        const stale = (await cluster.audit.writes(mark)).filter(
          (w) => w.writer === leader.name && w.holder !== leader.url,
        );
        expect(stale).toEqual([]);
        return { failoverMs };
      }),
    FAULT_TIMEOUT_MS,
  );

  it(
    'Redis restarted with persistence (append-only file)',
    () => underFault('Redis restart, persistent', () => cluster.restartRedis(true)),
    FAULT_TIMEOUT_MS,
  );

  it(
    'Redis restarted without persistence (empty)',
    () => underFault('Redis restart, empty', () => cluster.restartRedis(false)),
    FAULT_TIMEOUT_MS,
  );

  it(
    "Postgres unreachable for 5 s (every master's connections reset)",
    () => underFault('Postgres drop 5 s', () => cluster.dropPostgres(5_000)),
    FAULT_TIMEOUT_MS,
  );

  it(
    'kill -9 of an agent, started again',
    () =>
      underFault('kill -9 agent', async () => {
        await cluster.killAgent(cluster.agents[0] as ChaosCluster['agents'][number]);
      }),
    FAULT_TIMEOUT_MS,
  );

  it(
    `an agent cut off from Redis for ${CUT_MS / 1000} s by a TCP proxy, then restored`,
    () =>
      underFault(`agent cut ${CUT_MS / 1000} s`, async () => {
        const link = (cluster.agents[1] ?? cluster.agents[0])?.redis;
        link?.cut();
        await new Promise((resolve) => setTimeout(resolve, CUT_MS)); // the outage lasts this long
        link?.restore();
      }),
    FAULT_TIMEOUT_MS,
  );

  it(
    'a flaky agent link: 300 ms delay, its connections reset three times',
    () =>
      underFault('agent link flaky', async () => {
        const link = (cluster.agents[2] ?? cluster.agents[0])?.redis;
        link?.delay(300);
        for (let i = 0; i < 3; i++) {
          const accepted = link?.accepted() ?? 0;
          link?.resetAll();
          await waitFor('the agent to reconnect', () => (link?.accepted() ?? 1) > accepted);
        }
        link?.blackhole();
        await new Promise((resolve) => setTimeout(resolve, 2_000)); // a silent 2 s partition
        link?.restore();
        link?.delay(0);
      }),
    FAULT_TIMEOUT_MS,
  );

  it(
    'a master whose clock is 5 s ahead leads',
    () =>
      underFault('leader clock +5 s', async () => {
        const leaderNow = await cluster.leader();
        const victim = cluster.masters.find((m) => m !== leaderNow);
        if (!victim) throw new Error('no standby');
        const skewed = await cluster.killMaster(victim, { clockOffsetMs: 5_000 });
        // Kill whoever else leads, without restarting it, until the skewed master holds the
        // lease: with the others gone it is the last candidate. Killed and restarted at once,
        // a leader came back under its own URL and renewed the lease it still held (the lease's
        // holder is the URL), so in about half the runs the skewed master never had a turn (70
        // elections in 120 s, all won by others).
        const killed: ChaosMaster[] = [];
        await waitFor(
          'the skewed master to lead',
          async () => {
            const leader = await cluster.leader();
            if (leader.port === skewed?.port) return true;
            killed.push(leader);
            await cluster.killMaster(leader, false);
            return false;
          },
          { timeoutMs: 60_000, maxIntervalMs: 1_000 },
        );
        // Back as a supervisor would bring them, standbys under the skewed leader.
        for (const master of killed) await cluster.startMaster(master.port, { pg: master.pg });
      }),
    FAULT_TIMEOUT_MS,
  );
});
