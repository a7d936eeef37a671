// A warm standby takes over with exactly what a cold load reads: a leader's applier writes
// (apps, instances, deployments, quotas, weights, drains; creates, updates and removals) on real
// Postgres while a standby's applier on its own connection refreshes its copy, some refreshes
// racing the writes; the last writes land after the last refresh, as before a kill. The copy
// taken over must equal a fresh load, indexes included.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployment, Instance, PortDefinition } from '../src/domain/index.js';
import { silentLogger, systemClock } from '../src/lib/index.js';
import { createApplier } from '../src/master/applier/index.js';
import type { Applier, Intent } from '../src/master/applier/index.js';
import { makeApp, makeInstance } from '../src/scheduler/fixtures.js';
import { createPostgresStore, type Store } from '../src/store/index.js';
import { createTestDatabase, hasService } from './support/services.js';
import { createEventHubDouble } from './support/api-doubles.js';

const ok = await hasService('postgres');
const AGENTS = ['agent-1', 'agent-2', 'agent-3'];
const CONDITIONS = ['Scheduled', 'Staging', 'Running', 'Finished'] as const;

/** A deterministic random source (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function applierOn(store: Store): Applier {
  return createApplier({
    store,
    events: createEventHubDouble(systemClock),
    logger: silentLogger(),
  });
}

/** Everything a leader reads from its state, in an order that does not depend on history. */
function viewOf(applier: Applier) {
  const byId = <T>(list: T[], id: (t: T) => string) =>
    [...list].sort((a, b) => id(a).localeCompare(id(b)));
  const instances = byId(applier.instances.all(), (i) => i.instanceId);
  const ports = new Map<number, number>();
  for (const app of applier.apps.apps().values())
    for (const port of app.portDefinitions ?? [])
      ports.set(port.port, applier.apps.servicePortHolders(port.port));
  return {
    apps: [...applier.apps.apps().entries()].sort(([a], [b]) => a.localeCompare(b)),
    instances,
    byApp: [...new Set(instances.map((i) => i.appId))].map((appId) => [
      appId,
      byId(applier.instances.byApp(appId), (i) => i.instanceId).map((i) => i.instanceId),
    ]),
    waiting: applier.instances
      .waiting()
      .map((r) => r.value.instanceId)
      .sort(),
    held: AGENTS.map((agentId) =>
      applier.instances
        .heldOn(agentId)
        .instances.map((i) => i.instanceId)
        .sort(),
    ),
    byTask: instances.map((i) => applier.instances.byTaskId(`${i.instanceId}._app.1`)?.instanceId),
    // Running deployments in creation order, as the store lists them.
    deployments: applier.apps.deployments(),
    roles: applier.roles.list(),
    drains: [...applier.drains.all().entries()].sort(([a], [b]) => a.localeCompare(b)),
    ports: [...ports.entries()].sort(([a], [b]) => a - b),
    enforcingGroups: [...applier.apps.enforcingGroups()].sort(),
  };
}

describe.skipIf(!ok)('a warm standby', () => {
  let database: { url: string; drop: () => Promise<void> };
  let leaderStore: Store;
  let standbyStore: Store;
  beforeAll(async () => {
    database = await createTestDatabase();
    leaderStore = await createPostgresStore({ url: database.url });
    standbyStore = await createPostgresStore({ url: database.url });
  });
  afterAll(async () => {
    await leaderStore?.close();
    await standbyStore?.close();
    await database?.drop();
  });

  it('takes over with what a cold load reads, the last writes before the take-over included', async () => {
    const leader = applierOn(leaderStore);
    await leader.load();
    const standby = applierOn(standbyStore);
    await standby.refreshStandby();
    // A follower's copy is never shown: the views read nothing while it follows.
    expect(standby.apps.revision()).toBeUndefined();
    const next = random(14);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
    let serial = 0;

    /** One random change through the leader's applier, computed from its state. */
    function change(): Intent | undefined {
      const apps = [...leader.apps.apps().keys()];
      const instances = leader.instances.records();
      const deployments = leader.apps.deployments();
      const roll = next();
      const appId = apps.length > 0 ? pick(apps) : undefined;
      if (roll < 0.2 || !appId) {
        const id = `/team-${serial % 4}/app-${++serial}`;
        const portDefinitions: PortDefinition[] =
          next() < 0.5 ? [{ port: 10_000 + serial, protocol: 'tcp' }] : [];
        return {
          source: 'orchestrator',
          apps: [
            makeApp({
              id,
              version: new Date(serial * 1000).toISOString(),
              portDefinitions,
            }),
          ],
          create: [
            makeInstance({
              instanceId: `${id.slice(1).replace(/\//g, '_')}.i-${serial}`,
              appId: id,
              agentId: pick(AGENTS),
              condition: pick(CONDITIONS),
            }),
          ],
        };
      }
      if (roll < 0.25)
        return {
          source: 'orchestrator',
          groups: [{ id: `/team-${serial % 4}`, enforceRole: next() < 0.5 }],
        };
      if (roll < 0.3)
        return {
          source: 'orchestrator',
          removeApps: [appId],
          expunge: leader.instances
            .recordsOfApp(appId)
            .map((r) => ({ instanceId: r.value.instanceId, revision: r.revision })),
        };
      if (roll < 0.55 && instances.length > 0) {
        const record = pick(instances);
        const instance: Instance = {
          ...record.value,
          condition: pick(CONDITIONS),
          agentId: pick(AGENTS),
        };
        return { source: 'status', update: [{ instance, revision: record.revision }] };
      }
      if (roll < 0.65 && instances.length > 0) {
        const record = pick(instances);
        return {
          source: 'status',
          expunge: [{ instanceId: record.value.instanceId, revision: record.revision }],
        };
      }
      if (roll < 0.75) {
        const deployment: Deployment = {
          id: `d-${++serial}`,
          version: new Date(serial * 1000).toISOString(),
          affectedApps: [appId],
          steps: [{ actions: [{ action: 'ScaleApplication', app: appId }] }],
          currentStep: 0,
          original: [],
          target: [],
          createdAt: new Date(1_800_000_000_000 + serial).toISOString(),
        };
        return { source: 'orchestrator', startDeployments: [deployment] };
      }
      if (roll < 0.85 && deployments.length > 0) {
        const deployment = pick(deployments);
        const revision = leader.apps.deploymentRevisionOf(deployment.id) ?? -1;
        return next() < 0.5
          ? {
              source: 'orchestrator',
              progress: [{ deployment: { ...deployment, currentStep: 1 }, revision }],
            }
          : { source: 'orchestrator', finishDeployments: [{ id: deployment.id, revision }] };
      }
      if (roll < 0.92) {
        const role = pick(['web', 'batch', '__proto__']);
        return next() < 0.5
          ? { source: 'roles', weights: [{ role, weight: next() < 0.3 ? null : 1 + serial }] }
          : {
              source: 'roles',
              quotas: [
                { role, quota: next() < 0.3 ? null : { guarantees: {}, limits: { cpus: serial } } },
              ],
            };
      }
      return {
        source: 'orchestrator',
        drains: [
          {
            agentId: pick(AGENTS),
            since: next() < 0.4 ? null : new Date(serial * 1000).toISOString(),
          },
        ],
      };
    }

    for (let round = 0; round < 60; round++) {
      // A few changes in flight while the standby reads: some commit after its snapshot.
      const writes = Array.from({ length: 5 }, () => leader.update(change));
      await Promise.all([...writes, standby.refreshStandby()]);
    }
    // The last moments before the kill: written, never refreshed before the take-over.
    for (let n = 0; n < 20; n++) await leader.update(change);
    expect(standby.apps.revision()).toBeUndefined();

    const took = await standby.takeOver();
    expect(took.isWarm).toBe(true);
    expect(took.changed).toBeGreaterThan(0);
    const cold = applierOn(standbyStore);
    await cold.load();
    const warmView = viewOf(standby);
    expect(warmView.apps.length).toBeGreaterThan(10);
    expect(warmView.instances.length).toBeGreaterThan(10);
    expect(warmView).toEqual(viewOf(cold));
    // And the leader's own memory agrees with both.
    expect(viewOf(leader)).toEqual(warmView);
  });

  it('loads cold when it holds no copy, and shows nothing while it follows', async () => {
    const standby = applierOn(standbyStore);
    expect(() => standby.apps.apps()).toThrow();
    expect(await standby.takeOver()).toEqual({ isWarm: false, changed: 0 });
    const cold = applierOn(standbyStore);
    await cold.load();
    expect(viewOf(standby)).toEqual(viewOf(cold));
  });
});
