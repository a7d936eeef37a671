// One identity per agent, on real Postgres and a throwaway Redis locked down as the README says
// (the default user off, the master with a user of its own): join tokens work once, each agent's
// Redis user reaches only its own streams, the master believes an agent only about itself and its
// tasks, revoking an agent deletes its user and closes its connections at once, and a secret
// reaches only the stream of the agent that runs its task.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus, OfferMessage, StatusMessage } from '../src/bus/index.js';
import { createRedisAcl, createRedisBus, masterAclRules, topics } from '../src/bus/index.js';
import { startAgent, type RunningAgent } from '../src/agent/agent.js';
import {
  CREDENTIALS_FILE,
  loadOrJoin,
  redisUrlFor,
  type AgentCredentials,
} from '../src/agent/credentials.js';
import { silentLogger, systemClock } from '../src/lib/index.js';
import { startMaster, type RunningMaster } from '../src/cli/start-master.js';
import { createSecretBox } from '../src/master/secret-box.js';
import { createMockDriver, type MockDriver } from '../src/runtime/mock/index.js';
import { createPostgresStore, type Store } from '../src/store/index.js';
import { apiClient } from './support/cluster.js';
import { createRedisServer, type RedisServer } from './support/redis-server.js';
import { createTestDatabase, hasService } from './support/services.js';
import { waitFor } from './support/wait-for.js';

const ok = await hasService('postgres');
const PREFIX = 'pacer:';
const MASTER_USER = 'pacer-master';
const MASTER_PASSWORD = 'master-secret-for-tests';

interface EdgeAgent {
  credentials: AgentCredentials;
  bus: Bus;
  agent: RunningAgent;
  driver: MockDriver;
  workDir: string;
}

describe.skipIf(!ok)('agent identity', () => {
  const logger = silentLogger();
  let redis: RedisServer;
  let database: { url: string; drop: () => Promise<void> };
  let store: Store;
  let masterBus: Bus;
  let acl: ReturnType<typeof createRedisAcl>;
  let master: RunningMaster;
  let api: ReturnType<typeof apiClient>;
  let admin: Redis;
  const opened: Redis[] = [];
  const edges: EdgeAgent[] = [];
  /** Everything the master logged, at debug level: secrets must never appear in it. */
  let masterLog = '';
  const masterLogger = pino({ level: 'debug' }, { write: (line: string) => (masterLog += line) });

  const masterRedisUrl = () => `redis://${MASTER_USER}:${MASTER_PASSWORD}@127.0.0.1:${redis.port}`;

  /** A plain connection as `credentials`' Redis user (or the default user). */
  function connectAs(credentials?: AgentCredentials): Redis {
    const url = credentials ? redisUrlFor(redis.url, credentials) : redis.url;
    const connection = new Redis(url, {
      protocol: 2,
      enableReadyCheck: false,
      maxRetriesPerRequest: 0,
      lazyConnect: true,
    });
    connection.on('error', () => undefined);
    opened.push(connection);
    return connection;
  }

  async function joinToken(hostname: string): Promise<string> {
    const created = await api.post('/v2/acl/agent-tokens', { hostname });
    expect(created.status).toBe(201);
    return created.body.token as string;
  }

  async function startEdge(hostname: string, workDir: string, token?: string): Promise<EdgeAgent> {
    const credentials = await loadOrJoin({ workDir, masterUrl: api.url, joinToken: token, logger });
    if (!credentials) throw new Error('no credentials');
    const bus = createRedisBus({
      url: redisUrlFor(redis.url, credentials),
      prefix: PREFIX,
      logger,
      readyCheck: false,
    });
    const driver = createMockDriver();
    const agent = await startAgent({
      bus,
      agentId: credentials.agentId,
      drivers: [driver],
      hostname,
      attributes: {},
      resources: { cpus: 2, memMiB: 1024, diskMiB: 1024, ports: [[31000, 31100]] },
      workDir,
      clock: systemClock,
      logger,
      offerIntervalMs: 200,
    });
    const edge = { credentials, bus, agent, driver, workDir };
    edges.push(edge);
    return edge;
  }

  async function stopEdge(edge: EdgeAgent): Promise<void> {
    edges.splice(edges.indexOf(edge), 1);
    await edge.agent.stop().catch(() => undefined);
    await edge.bus.close();
  }

  async function tasksOf(appId: string): Promise<{ id: string; state: string; slaveId: string }[]> {
    return (await api.get(`/v2/apps/${appId}/tasks`)).body.tasks as {
      id: string;
      state: string;
      slaveId: string;
    }[];
  }

  async function statusEvents(taskId: string): Promise<string[]> {
    const events = await store.events.since(0, 100_000);
    return events
      .filter((e) => e.eventType === 'status_update_event' && e.payload.taskId === taskId)
      .map((e) => e.payload.taskStatus as string);
  }

  /** The README's lock-down: the master gets a user of its own, the default user goes off. */
  async function lockDown(): Promise<void> {
    const bootstrap = new Redis(redis.url, { protocol: 2 });
    const rules = masterAclRules(PREFIX);
    await bootstrap.call('ACL', 'SETUSER', MASTER_USER, 'on', `>${MASTER_PASSWORD}`, ...rules);
    // The test looks on as an operator would, with a user of its own.
    await bootstrap.call('ACL', 'SETUSER', 'test-admin', 'on', '>admin', '~*', '&*', '+@all');
    await bootstrap.call('ACL', 'SETUSER', 'default', 'off');
    bootstrap.disconnect();
  }

  beforeAll(async () => {
    redis = await createRedisServer();
    await redis.start();
    await lockDown();
    admin = new Redis(`redis://test-admin:admin@127.0.0.1:${redis.port}`, { protocol: 2 });

    database = await createTestDatabase();
    store = await createPostgresStore({ url: database.url, logger });
    masterBus = createRedisBus({ url: masterRedisUrl(), prefix: PREFIX, logger });
    acl = createRedisAcl({ url: masterRedisUrl(), prefix: PREFIX, logger });
    master = await startMaster({
      store,
      bus: masterBus,
      clock: systemClock,
      logger: masterLogger,
      secretBox: createSecretBox(randomBytes(32)),
      masterId: 'identity-test',
      port: 0,
      host: '127.0.0.1',
      publicUrl: 'http://127.0.0.1:8080',
      version: '0.0.0',
      agentTimeoutMs: 60_000,
      requireAgentIdentity: true,
      agentAcl: acl,
    });
    api = apiClient(`http://127.0.0.1:${master.port}`);
  }, 60_000);

  afterAll(async () => {
    for (const edge of [...edges]) await stopEdge(edge);
    for (const connection of opened) connection.disconnect();
    admin?.disconnect();
    await master?.stop();
    await masterBus?.close();
    await acl?.close();
    await store?.close();
    await database?.drop();
    await redis?.kill();
  }, 60_000);

  it('pacer agent-token create prints a join token that an agent can use once', async () => {
    const pacer = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          ['bin/pacer.js', 'agent-token', ...args],
          { env: { ...process.env, PACER_URL: api.url, PACER_CONFIG: '/nonexistent/pacer.json' } },
          (error, stdout, stderr) =>
            resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
        );
      });
    const created = await pacer(['create', '--hostname', 'edge-cli']);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    const token = created.stdout.trim();
    expect(token).toMatch(/^pjt_/);
    expect((await api.post('/v2/acl/agent-join', { token })).body).toMatchObject({
      hostname: 'edge-cli',
    });

    const json = await pacer(['create', '--hostname', 'edge-json', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ hostname: 'edge-json', token: /^pjt_/ });
    const refused = await pacer(['create', '--hostname', '../../etc']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('/hostname: must be a hostname');
    expect((await pacer(['create'])).code).toBe(2);
  });

  it('a join token works once only, and never once expired', async () => {
    const token = await joinToken('edge-once');
    const first = await api.post('/v2/acl/agent-join', { token });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ hostname: 'edge-once', redisUsername: expect.any(String) });
    const again = await api.post('/v2/acl/agent-join', { token });
    expect(again.status).toBe(401);

    const expired = 'pjt_an-expired-token-for-this-test';
    await store.agentIdentities.putJoinToken({
      tokenSha256: createHash('sha256').update(expired).digest('hex'),
      hostname: 'edge-late',
      expiresAt: Date.now() - 1,
    });
    expect((await api.post('/v2/acl/agent-join', { token: expired })).status).toBe(401);
    expect((await api.post('/v2/acl/agent-join', { token: 'x'.repeat(100_000) })).status).toBe(422);
    expect((await api.post('/v2/acl/agent-tokens', { hostname: '../../etc' })).status).toBe(422);
  });

  it("with one agent's credentials, other agents' streams and anything else answer NOPERM", async () => {
    const a = (await api.post('/v2/acl/agent-join', { token: await joinToken('edge-x') })).body;
    const b = (await api.post('/v2/acl/agent-join', { token: await joinToken('edge-y') })).body;
    const asA = connectAs(a as AgentCredentials);
    const key = (stream: string) => PREFIX + stream;
    // Its own streams: what an agent needs.
    await expect(
      asA.xadd(key(topics.status(a.agentId)), '*', 'message', '{}'),
    ).resolves.toBeTruthy();
    await expect(
      asA.xadd(key(topics.logs(a.agentId, 't1')), 'MAXLEN', '~', 10, '*', 'message', '{}'),
    ).resolves.toBeTruthy();
    await asA.call('XGROUP', 'CREATE', key(topics.commands(a.agentId)), 'agent', '0', 'MKSTREAM');
    await asA.call(
      'XREADGROUP',
      'GROUP',
      'agent',
      'c',
      'COUNT',
      1,
      'STREAMS',
      key(topics.commands(a.agentId)),
      '>',
    );

    const denied = [
      // B's launch commands (with their env): neither read nor consumed.
      () =>
        asA.call(
          'XREADGROUP',
          'GROUP',
          'agent',
          'c',
          'STREAMS',
          key(topics.commands(b.agentId)),
          '>',
        ),
      () => asA.call('XRANGE', key(topics.commands(b.agentId)), '-', '+'),
      () => asA.call('XREAD', 'STREAMS', key(topics.commands(b.agentId)), '0'),
      // Writing into B's streams, or launches into its own.
      () => asA.xadd(key(topics.commands(b.agentId)), '*', 'message', '{}'),
      () => asA.xadd(key(topics.status(b.agentId)), '*', 'message', '{}'),
      () => asA.xadd(key(topics.offers(b.agentId)), '*', 'message', '{}'),
      () => asA.xadd(key(topics.logs(b.agentId, 't1')), '*', 'message', '{}'),
      () => asA.xadd(key(topics.commands(a.agentId)), '*', 'message', '{}'),
      // Reading even its own reports back, listing keys, the announce stream, other commands.
      () => asA.call('XRANGE', key(topics.status(a.agentId)), '-', '+'),
      () => asA.call('KEYS', '*'),
      () => asA.xadd(key(topics.announce), '*', 'message', '{}'),
      () => asA.call('DEL', key(topics.status(a.agentId))),
      () => asA.call('ACL', 'LIST'),
      () => asA.call('XGROUP', 'DESTROY', key(topics.commands(a.agentId)), 'agent'),
    ];
    for (const attempt of denied) await expect(attempt()).rejects.toThrow(/^NOPERM/);

    // A master that requires identity never reads the shared announce stream of agents without one.
    await expect(admin.call('XINFO', 'GROUPS', key(topics.announce))).rejects.toThrow(
      /no such key/,
    );

    const users = ((await admin.call('ACL', 'LIST')) as string[]).join('\n');
    expect(users).toContain(`user ${a.redisUsername as string} on`);
    expect(users).toContain(`user ${b.redisUsername as string} on`);
    // No credentials: Redis's default user is off.
    const anonymous = connectAs();
    await expect(anonymous.xadd(key(topics.status(a.agentId)), '*', 'm', '{}')).rejects.toThrow();
  });

  it('believes an agent only about itself and its tasks; revoking it ends its connections at once', async () => {
    const workA = await mkdtemp(path.join(os.tmpdir(), 'pacer-edge-a-'));
    const workB = await mkdtemp(path.join(os.tmpdir(), 'pacer-edge-b-'));
    const tokenA = await joinToken('edge-a');
    let a = await startEdge('edge-a', workA, tokenA);
    const b = await startEdge('edge-b', workB, await joinToken('edge-b'));

    // Kept 0600 and reused on restart: the used token is never sent again.
    expect((await stat(path.join(workA, CREDENTIALS_FILE))).mode & 0o777).toBe(0o600);
    const joined = a.credentials;
    await stopEdge(a);
    a = await startEdge('edge-a', workA, tokenA);
    expect(a.credentials).toEqual(joined);

    const created = await api.post('/v2/apps', {
      id: '/edge/app',
      cmd: 'service.wasm',
      cpus: 0.1,
      mem: 16,
      instances: 1,
      constraints: [['hostname', 'CLUSTER', 'edge-a']],
    });
    expect(created.status).toBe(201);
    const [task] = await waitFor('the task running', async () => {
      const tasks = await tasksOf('/edge/app');
      return tasks[0]?.state === 'TASK_RUNNING' ? tasks : undefined;
    });
    if (!task) throw new Error('no task');
    expect(task.slaveId).toBe(a.credentials.agentId);
    const victim = a.credentials.agentId;
    const attacker = b.credentials.agentId;

    // B forges an end for A's task, on its own stream (the only one it can write).
    const forged: StatusMessage = {
      type: 'status',
      agentId: attacker,
      taskId: task.id,
      state: 'TASK_FAILED',
      seq: Number.MAX_SAFE_INTEGER,
      at: Date.now(),
    };
    await b.bus.publish(topics.status(attacker), forged);
    // … naming A as the sender.
    await b.bus.publish(topics.status(attacker), { ...forged, agentId: victim });
    // … an offer in A's name listing none of A's tasks (it would mark them gone).
    const offer: OfferMessage = {
      type: 'offer',
      agentId: victim,
      hostname: 'edge-a',
      attributes: {},
      capabilities: ['wasm'],
      total: { cpus: 2, memMiB: 1024, diskMiB: 1024, ports: [] },
      free: { cpus: 2, memMiB: 1024, diskMiB: 1024, ports: [] },
      runningTaskIds: [],
      sentAt: Date.now(),
      startedAt: Date.now(),
    };
    await b.bus.publish(topics.offers(attacker), offer);
    // … and straight into A's streams: Redis refuses.
    await expect(b.bus.publish(topics.offers(victim), offer)).rejects.toThrow(/NOPERM/);
    await expect(b.bus.publish(topics.status(victim), forged)).rejects.toThrow(/NOPERM/);
    // Messages that are not what the stream carries.
    await b.bus.publish(topics.status(attacker), { type: 'status', agentId: attacker, taskId: 5 });
    await b.bus.publish(topics.status(attacker), { ...forged, state: 'TASK_EXPLODED' });
    await b.bus.publish(topics.offers(attacker), { ...offer, agentId: attacker, free: 'all' });

    await waitFor('the forgeries dropped', () => {
      expect(master.trust.dropped(attacker, 'foreign_task')).toBe(1);
      expect(master.trust.dropped(attacker, 'foreign_agent')).toBe(2);
      expect(master.trust.dropped(attacker, 'invalid')).toBe(3);
      return true;
    });
    // A's later heartbeats were read after all of it: its task is untouched.
    await a.agent.offer();
    const after = await tasksOf('/edge/app');
    expect(after).toEqual([expect.objectContaining({ id: task.id, state: 'TASK_RUNNING' })]);
    expect(await statusEvents(task.id)).not.toContain('TASK_FAILED');
    expect(await statusEvents(task.id)).not.toContain('TASK_GONE');
    const metrics = (await api.get('/metrics/prometheus')).body as string;
    expect(metrics).toContain(
      `pacer_agent_messages_dropped_total{agent_id="${attacker}",reason="invalid"} 3`,
    );

    // Revoking A: its user is gone, its connections closed, its task unreachable.
    const userA = a.credentials.redisUsername;
    const clientsOf = async (user: string) =>
      ((await admin.call('CLIENT', 'LIST')) as string)
        .split('\n')
        .filter((line) => line.includes(` user=${user} `));
    expect(await clientsOf(userA)).not.toEqual([]);
    expect((await api.delete(`/v2/agents/${victim}`)).status).toBe(200);
    expect(((await admin.call('ACL', 'USERS')) as string[]).includes(userA)).toBe(false);
    expect(await clientsOf(userA)).toEqual([]);
    await expect(connectAs(a.credentials).ping()).rejects.toThrow(/WRONGPASS/);
    await waitFor('TASK_UNREACHABLE', async () =>
      (await statusEvents(task.id)).includes('TASK_UNREACHABLE'),
    );
    const listed = (await api.get('/v2/agents')).body.agents as { id: string; state: string }[];
    expect(listed.find((agent) => agent.id === victim)?.state).toBe('unreachable');
    expect((await api.delete('/v2/agents/agent-nobody')).status).toBe(404);
    expect((await api.delete('/v2/agents/%00')).status).toBe(404);
    expect((await api.delete(`/v2/agents/${'a'.repeat(10_000)}`)).status).toBe(404);
  }, 60_000);

  it('delivers a secret only on the stream of the agent that runs the task, nowhere else in the clear', async () => {
    const plaintext = `pw-${randomBytes(12).toString('hex')}`;
    expect((await api.put('/v2/secrets/edge/db-password', { value: plaintext })).status).toBe(201);
    const runs = await startEdge(
      'edge-s1',
      await mkdtemp(path.join(os.tmpdir(), 'pacer-s1-')),
      await joinToken('edge-s1'),
    );
    const other = await startEdge(
      'edge-s2',
      await mkdtemp(path.join(os.tmpdir(), 'pacer-s2-')),
      await joinToken('edge-s2'),
    );
    const created = await api.post('/v2/apps', {
      id: '/edge/uses-secret',
      cmd: 'service.wasm',
      cpus: 0.1,
      mem: 16,
      instances: 1,
      env: { PLAIN: 'visible', DB_PASSWORD: { secret: 'db' } },
      secrets: { db: { source: 'edge/db-password' } },
      constraints: [['hostname', 'CLUSTER', 'edge-s1']],
    });
    expect(created.status).toBe(201);
    await waitFor(
      'the task using the secret running',
      async () => (await tasksOf('/edge/uses-secret'))[0]?.state === 'TASK_RUNNING',
    );
    // The task got the value; the agent that does not run it got nothing.
    const launched = runs.driver.started.find(
      (spec) => spec.env.MARATHON_APP_ID === '/edge/uses-secret',
    );
    expect(launched?.env).toMatchObject({ PLAIN: 'visible', DB_PASSWORD: plaintext });
    expect(
      other.driver.started.some((spec) => spec.env.MARATHON_APP_ID === '/edge/uses-secret'),
    ).toBe(false);

    // The API shows the reference only.
    const answers = await Promise.all(
      [
        '/v2/apps/edge/uses-secret',
        '/v2/apps/edge/uses-secret/tasks',
        '/v2/secrets',
        '/v2/deployments',
        '/v2/queue',
      ].map(async (route) => JSON.stringify((await api.get(route)).body)),
    );
    expect(answers[0]).toContain('"source":"edge/db-password"');
    for (const answer of answers) expect(answer).not.toContain(plaintext);
    // Events and the master's log lines.
    expect(JSON.stringify(await store.events.since(0, 100_000))).not.toContain(plaintext);
    expect(masterLog).toContain('uses-secret');
    expect(masterLog).not.toContain(plaintext);
    // Every row of every table in Postgres.
    const sql = postgres(database.url, { max: 1, onnotice: () => undefined });
    try {
      const tables = await sql<{ schema: string; name: string }[]>`
        SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
        WHERE table_schema NOT IN ('pg_catalog', 'information_schema')`;
      expect(tables.map((t) => t.name)).toContain('secrets');
      for (const { schema, name } of tables) {
        const rows =
          await sql`SELECT row_to_json(t)::text AS row FROM ${sql(schema)}.${sql(name)} t`;
        expect(rows.map((r) => r.row as string).join('\n')).not.toContain(plaintext);
      }
    } finally {
      await sql.end();
    }
    // In Redis, only the command stream of the agent that runs the task holds it.
    const holding: string[] = [];
    for (const key of (await admin.call('KEYS', `${PREFIX}*`)) as string[]) {
      const type = await admin.type(key);
      const dump =
        type === 'stream'
          ? JSON.stringify(await admin.xrange(key, '-', '+'))
          : type === 'string'
            ? String(await admin.get(key))
            : type === 'hash'
              ? JSON.stringify(await admin.hgetall(key))
              : '';
      if (dump.includes(plaintext)) holding.push(key);
    }
    expect(holding).toEqual([PREFIX + topics.commands(runs.credentials.agentId)]);
  }, 60_000);

  it("puts the agents' Redis users back when Redis restarts empty, never revoked ones", async () => {
    const agentUsers = async () =>
      ((await admin.call('ACL', 'USERS')) as string[]).filter((u) => u.startsWith('pacer-agent-'));
    const before = await agentUsers();
    expect(before.length).toBeGreaterThan(0);
    admin.disconnect();
    await redis.kill();
    await redis.start(); // this Redis keeps nothing: the users are gone
    await lockDown(); // as its config file would
    admin = new Redis(`redis://test-admin:admin@127.0.0.1:${redis.port}`, { protocol: 2 });
    await waitFor('the agent users as before', async () => {
      expect(await agentUsers()).toEqual(before);
      return true;
    });
  }, 60_000);
});
