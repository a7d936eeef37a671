// Store conformance: one repository suite run against real Postgres and in-memory PGlite, plus
// PGlite persistence across reopen and two masters migrating the same fresh database at once.
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from './support/wait-for.js';
import type {
  Agent,
  AppDefinition,
  Deployment,
  Instance,
  TaskFailure,
} from '../src/domain/index.js';
import type { Store } from '../src/store/index.js';
import { createPgliteStore, createPostgresStore, StoreDecodeError } from '../src/store/index.js';
import { openMigratedPglite } from '../src/store/pglite-store.js';
import { templateFile } from '../src/store/pglite-template.js';
import { createTestDatabase, hasService } from './support/services.js';
import { describeOnEveryStore, type OpenStore } from './support/every-store.js';

const hasPostgres = await hasService('postgres');
const MIGRATIONS = new URL('../drizzle/', import.meta.url).pathname;
/** drizzle-kit's list of the migrations. */
const journal = () =>
  JSON.parse(readFileSync(join(MIGRATIONS, 'meta', '_journal.json'), 'utf8')) as {
    entries: { tag: string }[];
  };

function app(id: string, version: string, overrides: Partial<AppDefinition> = {}): AppDefinition {
  return {
    id,
    cmd: 'hello.wasm --greeting hi',
    cpus: 0.1,
    mem: 32,
    disk: 16,
    gpus: 0,
    instances: 1,
    env: { NAME: 'world', SECRET: { secret: 'db' } },
    labels: { PACER_WASM_FUEL: '2000000000' },
    fetch: [{ uri: 'http://master/hello.wasm', extract: false, executable: false, cache: false }],
    constraints: [['zone', 'GROUP_BY']],
    healthChecks: [],
    readinessChecks: [],
    requirePorts: false,
    networks: [{ mode: 'host' }],
    backoffSeconds: 1,
    backoffFactor: 1.15,
    maxLaunchDelaySeconds: 300,
    upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
    unreachableStrategy: { inactiveAfterSeconds: 0, expungeAfterSeconds: 0 },
    killSelection: 'YOUNGEST_FIRST',
    dependencies: [],
    executor: '',
    version,
    versionInfo: { lastScalingAt: version, lastConfigChangeAt: version },
    ...overrides,
  };
}

function instance(instanceId: string, appId: string, overrides: Partial<Instance> = {}): Instance {
  return {
    instanceId,
    appId,
    appVersion: '2026-01-01T00:00:00.000Z',
    goal: 'Running',
    condition: 'Running',
    incarnation: 1,
    agentId: 'agent-1',
    host: 'edge-1',
    ports: [31000],
    resources: { cpus: 0.1, memMiB: 32, diskMiB: 16 },
    createdAt: '2026-01-01T00:00:00.000Z',
    conditionChangedAt: '2026-01-01T00:00:01.000Z',
    healthCheckResults: [],
    lastStatusSeq: 3,
    launchNotBefore: 0,
    ...overrides,
  };
}

function agent(agentId: string, overrides: Partial<Agent> = {}): Agent {
  const resources = {
    cpus: 2,
    memMiB: 1024,
    diskMiB: 4096,
    ports: [[31000, 32000]] as [number, number][],
  };
  return {
    agentId,
    hostname: `${agentId}.local`,
    attributes: { zone: 'eu' },
    capabilities: ['wasm'],
    total: resources,
    free: resources,
    runningTaskIds: [],
    registeredAt: '2026-01-01T00:00:00.000Z',
    lastHeartbeatAt: '2026-01-01T00:00:05.000Z',
    state: 'active',
    ...overrides,
  };
}

function deployment(id: string, createdAt: string): Deployment {
  return {
    id,
    version: createdAt,
    affectedApps: ['/a'],
    steps: [{ actions: [{ action: 'StartApplication', app: '/a' }] }],
    currentStep: 0,
    original: [],
    target: [app('/a', createdAt)],
    createdAt,
  };
}

function failure(appId: string, taskId: string): TaskFailure {
  return {
    appId,
    host: 'edge-1',
    message: 'TRAP: unreachable executed',
    state: 'TASK_FAILED',
    taskId,
    timestamp: '2026-01-01T00:00:09.000Z',
    version: '2026-01-01T00:00:00.000Z',
  };
}

const V1 = '2026-01-01T00:00:00.000Z';
const V2 = '2026-01-02T00:00:00.000Z';
const V3 = '2026-01-03T00:00:00.000Z';

/** The repository contract of src/store/store.ts, for any way of opening a Store. */
function describeStoreConformance(name: string, open: OpenStore): void {
  describe(`Store conformance: ${name}`, () => {
    let store: Store;
    let dispose: () => Promise<void>;

    beforeAll(async () => {
      ({ store, dispose } = await open());
    });
    afterAll(async () => {
      await dispose?.();
    });

    // One store per file (PGlite is slow to start): empty what the previous test wrote.
    // One transaction, so one commit (fsync) rather than one per deleted row.
    beforeEach(async () => {
      await store.transaction(async (tx) => {
        for (const a of await tx.apps.list()) await tx.apps.delete(a.id);
        for (const i of await tx.instances.list()) await tx.instances.delete(i.instanceId);
        for (const a of await tx.agents.list()) await tx.agents.delete(a.agentId);
        for (const d of await tx.deployments.list()) await tx.deployments.delete(d.id);
        await tx.events.trim(0);
      });
    });

    describe('apps', () => {
      it('returns the stored definition and undefined for an unknown app', async () => {
        const a = app('/edge/hello', V1);
        await store.apps.put(a);
        expect(await store.apps.get('/edge/hello')).toEqual(a);
        expect(await store.apps.get('/nope')).toBeUndefined();
      });

      it('lists current apps ordered by id', async () => {
        await store.apps.put(app('/b', V1));
        await store.apps.put(app('/a/z', V1));
        await store.apps.put(app('/a', V1));
        expect((await store.apps.list()).map((a) => a.id)).toEqual(['/a', '/a/z', '/b']);
      });

      it('keeps every version, newest first, and the latest put as current', async () => {
        await store.apps.put(app('/a', V2, { instances: 2 }));
        await store.apps.put(app('/a', V1, { instances: 1 }));
        await store.apps.put(app('/a', V3, { instances: 3 }));
        expect(await store.apps.versions('/a')).toEqual([V3, V2, V1]);
        expect((await store.apps.getVersion('/a', V2))?.instances).toBe(2);
        expect(await store.apps.getVersion('/a', '2020-01-01T00:00:00.000Z')).toBeUndefined();
        expect((await store.apps.get('/a'))?.version).toBe(V3);
        expect(await store.apps.versions('/unknown')).toEqual([]);
      });

      it('is idempotent when the same version is put twice', async () => {
        await store.apps.put(app('/a', V1));
        await store.apps.put(app('/a', V1, { instances: 5 }));
        expect(await store.apps.versions('/a')).toEqual([V1]);
        expect((await store.apps.get('/a'))?.instances).toBe(5);
        expect((await store.apps.getVersion('/a', V1))?.instances).toBe(5);
      });

      it('deletes the app with its versions and last failure, false when absent', async () => {
        await store.apps.put(app('/a', V1));
        await store.apps.put(app('/a', V2));
        await store.apps.put(app('/ab', V1));
        await store.apps.setLastTaskFailure(failure('/a', 'a.instance-1._app.1'));
        expect(await store.apps.delete('/a')).toBe(true);
        expect(await store.apps.get('/a')).toBeUndefined();
        expect(await store.apps.versions('/a')).toEqual([]);
        expect(await store.apps.getVersion('/a', V1)).toBeUndefined();
        expect(await store.apps.getLastTaskFailure('/a')).toBeUndefined();
        expect(await store.apps.versions('/ab')).toEqual([V1]);
        expect(await store.apps.delete('/a')).toBe(false);
      });

      it('putMany stores each app as current and as a version, last duplicate wins', async () => {
        await store.apps.put(app('/a', V1));
        await store.apps.putMany([
          app('/a', V2, { instances: 2 }),
          app('/b', V1),
          app('/a', V2, { instances: 3 }),
        ]);
        await store.apps.putMany([]);
        expect((await store.apps.list()).map((a) => [a.id, a.version])).toEqual([
          ['/a', V2],
          ['/b', V1],
        ]);
        expect((await store.apps.get('/a'))?.instances).toBe(3);
        expect(await store.apps.versions('/a')).toEqual([V2, V1]);
        expect((await store.apps.getVersion('/a', V2))?.instances).toBe(3);
      });

      it('keeps only the latest task failure of an app', async () => {
        expect(await store.apps.getLastTaskFailure('/a')).toBeUndefined();
        await store.apps.setLastTaskFailure(failure('/a', 'a.instance-1._app.1'));
        const latest = { ...failure('/a', 'a.instance-1._app.2'), slaveId: 'agent-1' };
        await store.apps.setLastTaskFailure(latest);
        expect(await store.apps.getLastTaskFailure('/a')).toEqual(latest);
      });
    });

    describe('instances', () => {
      it('puts, replaces, gets and deletes by instance id (delete is idempotent)', async () => {
        await store.instances.put(instance('a.instance-1', '/a'));
        const replaced = instance('a.instance-1', '/a', {
          condition: 'Failed',
          agentId: undefined,
        });
        delete replaced.agentId;
        await store.instances.put(replaced);
        expect(await store.instances.get('a.instance-1')).toEqual(replaced);
        await store.instances.delete('a.instance-1');
        await store.instances.delete('a.instance-1');
        expect(await store.instances.get('a.instance-1')).toBeUndefined();
      });

      it('lists by app and lists all', async () => {
        await store.instances.put(instance('a.instance-1', '/a'));
        await store.instances.put(instance('a.instance-2', '/a'));
        await store.instances.put(instance('b.instance-1', '/b'));
        const ofA = await store.instances.listByApp('/a');
        expect(ofA.map((i) => i.instanceId).sort()).toEqual(['a.instance-1', 'a.instance-2']);
        expect(await store.instances.listByApp('/none')).toEqual([]);
        expect(await store.instances.list()).toHaveLength(3);
      });

      it('putMany inserts new and replaces existing instances, last duplicate wins', async () => {
        await store.instances.put(instance('a.instance-1', '/a', { incarnation: 1 }));
        await store.instances.putMany([
          instance('a.instance-1', '/a', { incarnation: 2 }),
          instance('a.instance-2', '/a'),
          instance('a.instance-3', '/a', { incarnation: 1 }),
          instance('a.instance-3', '/a', { incarnation: 7 }),
        ]);
        await store.instances.putMany([]);
        expect((await store.instances.get('a.instance-1'))?.incarnation).toBe(2);
        expect((await store.instances.get('a.instance-3'))?.incarnation).toBe(7);
        expect(await store.instances.listByApp('/a')).toHaveLength(3);
      });

      it('putMany stores a large batch', async () => {
        const many = Array.from({ length: 500 }, (_, n) => instance(`big.instance-${n}`, '/big'));
        await store.instances.putMany(many);
        expect(await store.instances.listByApp('/big')).toHaveLength(500);
      });
    });

    describe('agents', () => {
      it('puts, replaces, gets, lists and deletes agents', async () => {
        await store.agents.put(agent('agent-2'));
        await store.agents.put(agent('agent-1'));
        await store.agents.put(agent('agent-1', { state: 'unreachable' }));
        expect(await store.agents.get('agent-1')).toEqual(
          agent('agent-1', { state: 'unreachable' }),
        );
        expect((await store.agents.list()).map((a) => a.agentId)).toEqual(['agent-1', 'agent-2']);
        await store.agents.delete('agent-1');
        expect(await store.agents.get('agent-1')).toBeUndefined();
        expect(await store.agents.list()).toHaveLength(1);
      });
    });

    describe('agent identities', () => {
      it('uses a join token once, never after it expires, and only the token it was given', async () => {
        const tokenSha256 = `t-${name}-${Date.now()}`;
        await store.agentIdentities.putJoinToken({
          tokenSha256,
          hostname: 'edge-1',
          expiresAt: 2_000,
        });
        const use = (sha: string, now: number, agentId: string) =>
          store.agentIdentities.useJoinToken({ tokenSha256: sha, now, agentId });
        expect(await use(`${tokenSha256}x`, 1_000, 'a-0')).toBeUndefined();
        expect(await use(tokenSha256, 1_000, 'a-1')).toEqual({ hostname: 'edge-1' });
        expect(await use(tokenSha256, 1_001, 'a-2')).toBeUndefined();
        const expiring = `${tokenSha256}-late`;
        await store.agentIdentities.putJoinToken({
          tokenSha256: expiring,
          hostname: 'e',
          expiresAt: 2_000,
        });
        expect(await use(expiring, 2_000, 'a-3')).toBeUndefined();
      });

      it('keeps credentials and marks them revoked once', async () => {
        const agentId = `agent-${name}-${Date.now()}`;
        const credential = {
          agentId,
          hostname: 'edge-1',
          passwordSha256: 'ab'.repeat(32),
          createdAt: 5,
        };
        await store.agentIdentities.putCredential(credential);
        expect(await store.agentIdentities.getCredential(agentId)).toEqual(credential);
        expect(await store.agentIdentities.revokeCredential(agentId, 9)).toBe(true);
        expect(await store.agentIdentities.getCredential(agentId)).toEqual({
          ...credential,
          revokedAt: 9,
        });
        expect(await store.agentIdentities.revokeCredential(agentId, 10)).toBe(true);
        expect((await store.agentIdentities.getCredential(agentId))?.revokedAt).toBe(9);
        expect(await store.agentIdentities.revokeCredential('agent-nobody', 10)).toBe(false);
        expect((await store.agentIdentities.listCredentials()).map((c) => c.agentId)).toContain(
          agentId,
        );
      });
    });

    describe('deployments', () => {
      it('puts, gets, lists in creation order and deletes deployments', async () => {
        await store.deployments.put(deployment('d-late', '2026-01-02T00:00:00.000Z'));
        await store.deployments.put(deployment('d-early', '2026-01-01T00:00:00.000Z'));
        const stepped = { ...deployment('d-early', '2026-01-01T00:00:00.000Z'), currentStep: 1 };
        await store.deployments.put(stepped);
        expect(await store.deployments.get('d-early')).toEqual(stepped);
        expect((await store.deployments.list()).map((d) => d.id)).toEqual(['d-early', 'd-late']);
        await store.deployments.delete('d-early');
        expect(await store.deployments.get('d-early')).toBeUndefined();
        expect(await store.deployments.list()).toHaveLength(1);
      });

      it('putMany and deleteMany write and remove several deployments at once', async () => {
        await store.deployments.putMany([
          deployment('d-2', '2026-01-02T00:00:00.000Z'),
          deployment('d-1', '2026-01-01T00:00:00.000Z'),
          deployment('d-3', '2026-01-03T00:00:00.000Z'),
        ]);
        expect((await store.deployments.list()).map((d) => d.id)).toEqual(['d-1', 'd-2', 'd-3']);
        await store.deployments.deleteMany(['d-1', 'd-3', 'd-unknown']);
        await store.deployments.deleteMany([]);
        expect((await store.deployments.list()).map((d) => d.id)).toEqual(['d-2']);
      });
    });

    describe('artifacts', () => {
      it('stores bytes by digest and returns them unchanged', async () => {
        const bytes = new Uint8Array(256 * 1024).map((_, n) => n % 256);
        const digest = `sha256:${name}-big`;
        const meta = await store.artifacts.put({ digest, bytes });
        expect(meta).toMatchObject({ digest, size: bytes.byteLength });
        expect(new Date(meta.createdAt).toISOString()).toBe(meta.createdAt);
        const got = await store.artifacts.get(digest);
        expect(got?.bytes).toBeInstanceOf(Uint8Array);
        expect(got?.bytes.constructor).toBe(Uint8Array);
        expect(Buffer.from(got!.bytes).equals(Buffer.from(bytes))).toBe(true);
        expect(await store.artifacts.get('sha256:unknown')).toBeUndefined();
      });

      it('treats a second put of the same digest as a no-op', async () => {
        const digest = `sha256:${name}-twice`;
        const first = await store.artifacts.put({ digest, bytes: new Uint8Array([1, 2, 3]) });
        const second = await store.artifacts.put({ digest, bytes: new Uint8Array([1, 2, 3]) });
        expect(second).toEqual(first);
        const listed = (await store.artifacts.list()).filter((a) => a.digest === digest);
        expect(listed).toEqual([first]);
        expect(listed[0]).not.toHaveProperty('bytes');
      });
    });

    describe('events', () => {
      it('appends with increasing ids and reads back after an id, oldest first, limited', async () => {
        const appended = [];
        for (let n = 0; n < 5; n++) {
          appended.push(
            await store.events.append({
              eventType: 'status_update_event',
              payload: { eventType: 'status_update_event', n, nested: { ok: true } },
            }),
          );
        }
        const ids = appended.map((e) => e.id);
        expect([...ids].sort((a, b) => a - b)).toEqual(ids);
        expect(new Set(ids).size).toBe(5);
        const after = await store.events.since(ids[1]!, 2);
        expect(after.map((e) => e.id)).toEqual([ids[2], ids[3]]);
        expect(after[0]).toEqual(appended[2]);
        expect(after[0]?.payload).toEqual({
          eventType: 'status_update_event',
          n: 2,
          nested: { ok: true },
        });
        expect(await store.events.since(ids[4]!, 10)).toEqual([]);
      });

      it('appends many in one call, ids increasing in the order given, across statements', async () => {
        const before = await store.events.append({ eventType: 'e', payload: { n: -1 } });
        const input = Array.from({ length: 2500 }, (_, n) => ({
          eventType: n % 2 ? 'odd' : 'even',
          payload: { n },
        }));
        const stored = await store.events.appendMany(input);
        expect(stored.map((e) => e.payload)).toEqual(input.map((e) => e.payload));
        const ids = stored.map((e) => e.id);
        expect(ids[0]).toBeGreaterThan(before.id);
        expect([...ids].sort((a, b) => a - b)).toEqual(ids);
        expect(new Set(ids).size).toBe(2500);
        // What was stored under each id is what was appended at that position.
        const read = await store.events.since(before.id, 3000);
        expect(read).toEqual(stored);
        expect(await store.events.appendMany([])).toEqual([]);
      });

      it('gives every event its deployment plan back, in its place, however it was stored', async () => {
        const plan = {
          id: 'd-1',
          original: { id: '/' },
          target: { id: '/', apps: [{ id: '/a' }] },
        };
        const event = (eventType: string, payload: Record<string, unknown>) => ({
          eventType,
          payload: { eventType, ...payload },
        });
        const first = [
          event('deployment_info', { plan, currentStep: { actions: [] } }),
          event('api_post_event', { appDefinition: { id: '/a' } }),
          event('deployment_step_success', { plan, currentStep: { actions: [] } }),
          // An equal plan that is another object, and one that differs.
          event('deployment_success', { id: 'd-1', plan: structuredClone(plan) }),
          event('deployment_failed', { id: 'd-2', plan: { ...plan, id: 'd-2' } }),
        ];
        const before = await store.events.append({ eventType: 'e', payload: {} });
        await store.events.appendMany(first);
        // Later events of the same deployment, one of them alone.
        await store.events.append(event('deployment_success', { id: 'd-1', plan }));
        const read = await store.events.since(before.id, 10);
        const expected = [...first, event('deployment_success', { id: 'd-1', plan })];
        expect(read.map((e) => e.payload)).toEqual(expected.map((e) => e.payload));
        expect(read.map((e) => Object.keys(e.payload))).toEqual(
          expected.map((e) => Object.keys(e.payload)),
        );
        // Trimmed with its events, a plan is stored again when an event carries it once more.
        await store.events.trim(0);
        await store.events.append(event('deployment_info', { plan }));
        expect((await store.events.since(0, 10)).map((e) => e.payload.plan)).toEqual([plan]);
      });

      it('trims all but the newest events', async () => {
        const ids = [];
        for (let n = 0; n < 5; n++) {
          ids.push((await store.events.append({ eventType: 'e', payload: { n } })).id);
        }
        await store.events.trim(2);
        expect((await store.events.since(0, 100)).map((e) => e.id)).toEqual(ids.slice(3));
        await store.events.trim(10);
        expect(await store.events.since(0, 100)).toHaveLength(2);
        await store.events.trim(0);
        expect(await store.events.since(0, 100)).toEqual([]);
      });
    });

    describe('leases', () => {
      const ttlMs = 60_000;
      /** Short enough to watch expire; the database's clock decides. */
      const shortMs = 300;
      const holderOf = async (lease: string) =>
        (await store.leases.holder({ name: lease }))?.holder;

      it('lets only one of two holders take a free lease', async () => {
        const lease = `${name}-leader-race`;
        const [a, b] = await Promise.all([
          store.leases.acquire({ name: lease, holder: 'a', ttlMs }),
          store.leases.acquire({ name: lease, holder: 'b', ttlMs }),
        ]);
        expect(a).toEqual(b);
        expect(['a', 'b']).toContain(a.holder);
        expect(await store.leases.holder({ name: lease })).toEqual({ holder: a.holder, term: 1 });
      });

      it('keeps the holder until expiry by the database clock, then hands over with a new term', async () => {
        const lease = `${name}-leader-expiry`;
        expect(await store.leases.acquire({ name: lease, holder: 'a', ttlMs: shortMs })).toEqual({
          holder: 'a',
          term: 1,
        });
        expect((await store.leases.acquire({ name: lease, holder: 'b', ttlMs })).holder).toBe('a');
        await waitFor(
          'the short lease to expire',
          async () => (await holderOf(lease)) === undefined,
          { timeoutMs: 5_000, maxIntervalMs: 20 },
        );
        expect(await store.leases.acquire({ name: lease, holder: 'b', ttlMs })).toEqual({
          holder: 'b',
          term: 2,
        });
      });

      it('renews the lease for its holder in the same term', async () => {
        const lease = `${name}-leader-renew`;
        await store.leases.acquire({ name: lease, holder: 'a', ttlMs: shortMs });
        expect(await store.leases.acquire({ name: lease, holder: 'a', ttlMs })).toEqual({
          holder: 'a',
          term: 1,
        });
        expect((await store.leases.acquire({ name: lease, holder: 'b', ttlMs })).holder).toBe('a');
      });

      it('releases only for the holder, and keeps the term rising', async () => {
        const lease = `${name}-leader-release`;
        await store.leases.acquire({ name: lease, holder: 'a', ttlMs });
        await store.leases.release({ name: lease, holder: 'b' });
        expect(await holderOf(lease)).toBe('a');
        await store.leases.release({ name: lease, holder: 'a' });
        expect(await holderOf(lease)).toBeUndefined();
        expect(await store.leases.acquire({ name: lease, holder: 'b', ttlMs })).toEqual({
          holder: 'b',
          term: 2,
        });
        await store.leases.release({ name: lease, holder: 'b' });
        expect(await store.leases.acquire({ name: lease, holder: 'a', ttlMs })).toEqual({
          holder: 'a',
          term: 3,
        });
      });
    });

    describe('principals', () => {
      const grants = [{ path: '/team-a', actions: ['view' as const, 'create' as const] }];

      it('creates, gets, lists by name and deletes principals', async () => {
        const a = `${name}-a`.toLowerCase().replace(/[^a-z-]/g, '-');
        expect(await store.principals.create({ name: `${a}2`, secretHash: 'h2', grants })).toBe(
          true,
        );
        expect(await store.principals.create({ name: a, secretHash: 'h1', grants: [] })).toBe(true);
        const got = await store.principals.get(a);
        expect(got).toMatchObject({ name: a, secretHash: 'h1', grants: [] });
        expect(Date.parse(got?.createdAt ?? '')).toBeGreaterThan(0);
        expect(await store.principals.get(`${a}2`)).toMatchObject({ grants });
        const listed = (await store.principals.list()).map((p) => p.name);
        expect(listed.indexOf(a)).toBeLessThan(listed.indexOf(`${a}2`));
        expect(await store.principals.delete(a)).toBe(true);
        expect(await store.principals.delete(a)).toBe(false);
        expect(await store.principals.get(a)).toBeUndefined();
        await store.principals.delete(`${a}2`);
      });

      it('keeps the first of two creations of one name, and exactly one reports it created', async () => {
        const p = `${name}-race`.toLowerCase().replace(/[^a-z-]/g, '-');
        const results = await Promise.all(
          ['first', 'second', 'third'].map((secretHash) =>
            store.principals.create({ name: p, secretHash, grants }),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = ['first', 'second', 'third'][results.indexOf(true)];
        expect((await store.principals.get(p))?.secretHash).toBe(winner);
        await store.principals.delete(p);
      });
    });

    describe('transaction', () => {
      it('commits every write and returns the callback value', async () => {
        const result = await store.transaction(async (tx) => {
          await tx.apps.put(app('/tx', V1));
          await tx.instances.putMany([instance('tx.instance-1', '/tx')]);
          await tx.events.append({ eventType: 'e', payload: { n: 1 } });
          expect(await tx.apps.get('/tx')).toBeDefined();
          return 42;
        });
        expect(result).toBe(42);
        expect(await store.apps.get('/tx')).toBeDefined();
        expect(await store.instances.get('tx.instance-1')).toBeDefined();
        expect(await store.events.since(0, 10)).toHaveLength(1);
      });

      it('writes nothing when the callback throws, and rethrows', async () => {
        const boom = new Error('boom');
        await expect(
          store.transaction(async (tx) => {
            await tx.apps.put(app('/tx', V1));
            await tx.instances.put(instance('tx.instance-1', '/tx'));
            await tx.agents.put(agent('tx-agent'));
            await tx.deployments.put(deployment('tx-d', V1));
            await tx.events.append({ eventType: 'e', payload: {} });
            await tx.leases.acquire({ name: `${name}-tx`, holder: 'a', ttlMs: 1000 });
            throw boom;
          }),
        ).rejects.toBe(boom);
        expect(await store.apps.get('/tx')).toBeUndefined();
        expect(await store.apps.versions('/tx')).toEqual([]);
        expect(await store.instances.get('tx.instance-1')).toBeUndefined();
        expect(await store.agents.get('tx-agent')).toBeUndefined();
        expect(await store.deployments.get('tx-d')).toBeUndefined();
        expect(await store.events.since(0, 10)).toEqual([]);
        expect(await store.leases.holder({ name: `${name}-tx` })).toBeUndefined();
      });

      it('refuses to close the store of a transaction', async () => {
        await expect(store.transaction((tx) => tx.close())).rejects.toThrow(/outer store/);
      });
    });

    describe('role policies', () => {
      it('puts, replaces, lists by role and deletes a policy left with neither part', async () => {
        const quota = { guarantees: { cpus: 2, memMiB: 1024 }, limits: { cpus: 4 } };
        await store.rolePolicies.put({ role: 'web', quota });
        await store.rolePolicies.put({ role: '__proto__', weight: 2 });
        await store.rolePolicies.put({ role: 'web', quota, weight: 1.5 });
        expect(await store.rolePolicies.list()).toEqual([
          { role: '__proto__', weight: 2 },
          { role: 'web', quota, weight: 1.5 },
        ]);
        await store.rolePolicies.put({ role: 'web' });
        await store.rolePolicies.put({ role: '__proto__' });
        expect(await store.rolePolicies.list()).toEqual([]);
      });
    });

    describe('group records', () => {
      it('keeps a top-level group that enforces its role, and forgets it when it stops', async () => {
        await store.groups.put({ id: '/web', enforceRole: true });
        await store.groups.put({ id: '/__proto__', enforceRole: true });
        await store.groups.put({ id: '/web', enforceRole: true });
        expect(await store.groups.list()).toEqual([
          { id: '/__proto__', enforceRole: true },
          { id: '/web', enforceRole: true },
        ]);
        await store.groups.put({ id: '/web', enforceRole: false });
        await store.groups.put({ id: '/absent', enforceRole: false });
        expect(await store.groups.list()).toEqual([{ id: '/__proto__', enforceRole: true }]);
        await store.groups.put({ id: '/__proto__', enforceRole: false });
      });
    });
  });
}

await describeOnEveryStore(describeStoreConformance);

describe.skipIf(!hasPostgres)('Postgres', () => {
  it('lets two masters open the same fresh database at once, migrating it once', async () => {
    const database = await createTestDatabase();
    try {
      const [a, b] = await Promise.all([
        createPostgresStore({ url: database.url }),
        createPostgresStore({ url: database.url }),
      ]);
      await a.apps.put(app('/both', V1));
      expect(await b.apps.get('/both')).toBeDefined();
      await Promise.all([a.close(), b.close()]);
      const sql = postgres(database.url, { max: 1, onnotice: () => {} });
      const rows = await sql`select count(*)::int as n from drizzle.__drizzle_migrations`;
      await sql.end();
      expect(rows[0]?.n).toBe(journal().entries.length);
    } finally {
      await database.drop();
    }
  });

  it('migrates a database of the first schema (jsonb documents), keeping its rows', async () => {
    const database = await createTestDatabase();
    const first = await mkdtemp(join(tmpdir(), 'pacer-migrations-'));
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    try {
      // The migrations folder as it was at the first migration.
      await cp(MIGRATIONS, first, { recursive: true });
      const { entries } = journal();
      const firstOnly = { ...journal(), entries: entries.slice(0, 1) };
      await writeFile(join(first, 'meta', '_journal.json'), JSON.stringify(firstOnly));
      await migrate(drizzle({ client: sql }), { migrationsFolder: first });
      const stored = app('/old', V1);
      await sql`insert into apps (id, version, definition)
        values ('/old', ${V1}, ${JSON.stringify(stored)}::jsonb)`;
      const store = await createPostgresStore({ url: database.url });
      try {
        expect(await store.apps.get('/old')).toEqual(stored);
        const [column] = await sql`select data_type from information_schema.columns
          where table_name = 'apps' and column_name = 'definition'`;
        expect(column?.data_type).toBe('json');
      } finally {
        await store.close();
      }
    } finally {
      await sql.end();
      await rm(first, { recursive: true, force: true });
      await database.drop();
    }
  });

  it('fails loudly on a stored row that does not hold what its key says', async () => {
    const database = await createTestDatabase();
    const store = await createPostgresStore({ url: database.url });
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    try {
      await sql`insert into agents (agent_id, data) values ('a1', ${sql.json({ agentId: 'a2' })})`;
      await sql`insert into agents (agent_id, data) values ('a3', '"not an object"'::jsonb)`;
      await expect(store.agents.get('a1')).rejects.toThrow(StoreDecodeError);
      await expect(store.agents.get('a3')).rejects.toThrow(/expected an object/);
      await expect(store.agents.list()).rejects.toThrow(StoreDecodeError);
    } finally {
      await sql.end();
      await store.close();
      await database.drop();
    }
  });
});

describe('PGlite with a data directory', () => {
  it('keeps data across close and reopen', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'pacer-store-'));
    const dataDir = join(parent, 'nested', 'pgdata');
    try {
      const first = await createPgliteStore({ dataDir });
      await first.apps.put(app('/kept', V1));
      await first.artifacts.put({ digest: 'sha256:kept', bytes: new Uint8Array([7, 8, 9]) });
      await first.close();

      const second = await createPgliteStore({ dataDir });
      try {
        expect((await second.apps.get('/kept'))?.version).toBe(V1);
        expect(Array.from((await second.artifacts.get('sha256:kept'))?.bytes ?? [])).toEqual([
          7, 8, 9,
        ]);
      } finally {
        await second.close();
      }
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });

  it("starts a fresh directory from the build's template, every migration applied", async () => {
    // `npm run build` (pretest) makes the template; without it every fresh start runs initdb.
    expect(existsSync(await templateFile())).toBe(true);
    const parent = await mkdtemp(join(tmpdir(), 'pacer-template-'));
    const identity = async (dataDir: string, fromTemplate: boolean) => {
      const client = await openMigratedPglite(dataDir, { fromTemplate });
      try {
        const migrations = await client.query(
          'select count(*)::int as n from drizzle.__drizzle_migrations',
        );
        const system = await client.query<{ id: string }>(
          'select system_identifier::text as id from pg_control_system()',
        );
        return { migrations: (migrations.rows[0] as { n: number }).n, id: system.rows[0]?.id };
      } finally {
        await client.close();
      }
    };
    try {
      const journal = JSON.parse(readFileSync(join(MIGRATIONS, 'meta', '_journal.json'), 'utf8'));
      const a = await identity(join(parent, 'a'), true);
      const b = await identity(join(parent, 'b'), true);
      const initdb = await identity(join(parent, 'c'), false);
      expect(a.migrations).toBe((journal as { entries: unknown[] }).entries.length);
      expect(b.migrations).toBe(a.migrations);
      expect(initdb.migrations).toBe(a.migrations);
      // initdb gives each cluster its own identifier: two fresh directories that share one were
      // unpacked from the same template, and one made by initdb has another.
      expect(b.id).toBe(a.id);
      expect(initdb.id).not.toBe(a.id);
      // A reopened directory is never overwritten by the template.
      expect((await identity(join(parent, 'c'), true)).id).toBe(initdb.id);
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });
});
