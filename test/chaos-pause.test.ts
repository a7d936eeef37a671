// The short chaos run in `npm test` (the full suite is `npm run chaos`): two real masters on
// Postgres, one agent on Redis, a client writing all along. The leader is paused (SIGSTOP) past
// its lease, another master takes over, and the paused one is woken (SIGCONT) with requests in
// flight: it must write nothing after it wakes (every write in the database's audit is by the
// lease's holder), and no acknowledged write may be lost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import {
  startChaosCluster,
  type ChaosCluster,
  type ChaosMaster,
} from './chaos/support/chaos-cluster.js';
import { checkFencing, checkInvariants, violationCount } from './chaos/support/invariants.js';
import { createWorkload, type Workload } from './chaos/support/workload.js';
import { hasService } from './support/services.js';
import { waitFor } from './support/wait-for.js';

const ok = (await hasService('postgres')) && (await hasService('redis'));

describe.skipIf(!ok)('a paused leader (SIGSTOP past its lease, then SIGCONT)', () => {
  let cluster: ChaosCluster;
  let workload: Workload;

  beforeAll(async () => {
    cluster = await startChaosCluster({ masters: 2, agents: 1 });
    const uri = await cluster.uploadService();
    workload = createWorkload({ cluster, prefix: 'pause', slots: 3, fetchUri: uri });
  }, 90_000);

  afterAll(async () => {
    // The cluster first: a paused master would hold the workload's calls until they time out.
    await cluster?.stop();
    await workload?.stop();
  });

  it('writes nothing after it wakes; another leads meanwhile; nothing acknowledged is lost', async () => {
    workload.start();
    await waitFor('writes acknowledged before the pause', () => workload.stats.acknowledged >= 6);
    const paused = await cluster.leader();
    const { term: pausedTerm } = (await cluster.audit.lease()) ?? { term: 0 };
    cluster.pause(paused);
    const pausedAt = performance.now();
    const next = await cluster.leader();
    const failoverMs = performance.now() - pausedAt;
    expect(next).not.toBe(paused);
    await waitFor('writes acknowledged by the new leader', () => workload.stats.acknowledged >= 12);

    const wokeAfter = await cluster.audit.mark();
    cluster.resume(paused);
    // It finds out it lost the lease (its own step-down, or the store's refusal) and follows. It
    // may also die: the server ended its sessions that idled inside a transaction while it was
    // stopped, and postgres.js 3.4.9 can throw from a write queued on such a closed connection
    // (porsager/postgres#1208). Then it is restarted, as a supervisor would.
    let crashed = false;
    await waitFor('the woken master to follow', async () => {
      if (paused.proc.child.exitCode !== null) {
        crashed = true;
        return true;
      }
      const answer = await paused.api.get('/v2/leader');
      return answer.body?.leader === `127.0.0.1:${next.port}`;
    });
    const output = paused.proc.output();
    if (crashed) await cluster.startMaster(paused.port, { pg: paused.pg });
    await waitFor('more writes after the wake-up', () => workload.stats.acknowledged >= 18);
    await workload.stop();

    // Writes of the woken master while another held the lease (a restarted one could lead
    // again only in a newer term of its own, as holder).
    const afterWake = (await cluster.audit.writes(wokeAfter)).filter(
      (w) => w.writer === paused.name && w.holder !== paused.url,
    );
    expect(afterWake).toEqual([]);
    expect(output).toContain('lost leadership');
    const lease = await cluster.audit.lease();
    expect(lease?.term).toBeGreaterThan(pausedTerm);
    expect(await checkFencing(cluster)).toEqual([]);

    const findings = await checkInvariants({ cluster, workload, marker: '/chaos/marker-pause' });
    console.log({ failoverMs: Math.round(failoverMs), crashed, ...workload.stats, ...findings });
    expect(findings.lostWrites).toEqual([]);
    expect(findings.duplicates).toEqual([]);
    expect(findings.convergence).toEqual([]);
    expect(findings.reconciliation).toEqual([]);
    expect(findings.events).toEqual([]);
    expect(violationCount(findings)).toBe(0);
  }, 120_000);

  // The detector itself: without it, "no violation" above would prove nothing.
  it('the audit catches a state write by a master that does not hold the lease', async () => {
    const leader = await cluster.leader();
    const other = cluster.masters.find((m) => m !== leader && !m.isPaused) as ChaosMaster;
    const before = await cluster.audit.mark();
    const url = new URL(cluster.db.url);
    url.searchParams.set('application_name', other.name);
    const sql = postgres(url.toString(), { max: 1, onnotice: () => {} });
    try {
      await sql`INSERT INTO events (event_type, payload) VALUES ('forged', '{}')`;
    } finally {
      await sql.end();
    }
    const found = await checkFencing(cluster, before);
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(`INSERT on events by ${other.url} while ${leader.url} held term`);
  });
});
