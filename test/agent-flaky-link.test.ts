// An agent on a flaky link to Redis (a TCP proxy cuts, delays and resets it) with a real master
// on Postgres: its tasks keep running through a cut; a task that ends meanwhile is reported once,
// after the link is back, also when the agent restarts during the cut (its outbox is on disk);
// each task's updates take effect in order; afterwards the master's view matches the agent's.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../src/agent/agent.js';
import { OUTBOX_FILE } from '../src/agent/status-outbox.js';
import type { Bus } from '../src/bus/index.js';
import { createRedisBus } from '../src/bus/index.js';
import { startMaster, type RunningMaster } from '../src/cli/start-master.js';
import { silentLogger, systemClock } from '../src/lib/index.js';
import { createMockDriver, type MockDriver } from '../src/runtime/mock/index.js';
import { createPostgresStore, type Store } from '../src/store/index.js';
import { createTcpProxy, type TcpProxy } from './chaos/support/tcp-proxy.js';
import { apiClient, tempDir } from './support/cluster.js';
import { createTestDatabase, hasService, REDIS_URL, redisPrefix } from './support/services.js';
import { waitFor } from './support/wait-for.js';

const ok = (await hasService('postgres')) && (await hasService('redis'));
const ORDER = ['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING'];

interface Task {
  id: string;
  state: string;
  appId: string;
}

describe.skipIf(!ok)('an agent on a flaky link', () => {
  const logger = silentLogger();
  const prefix = redisPrefix();
  let database: { url: string; drop: () => Promise<void> };
  let store: Store;
  let masterBus: Bus;
  let master: RunningMaster;
  let api: ReturnType<typeof apiClient>;
  let link: TcpProxy;
  let workDir: string;
  const driver: MockDriver = createMockDriver();
  let agentBus: Bus;
  let agent: RunningAgent;

  async function startEdge(): Promise<void> {
    agentBus = createRedisBus({ url: `redis://${link.address}`, prefix, logger });
    agent = await startAgent({
      bus: agentBus,
      drivers: [driver],
      hostname: 'flaky',
      attributes: {},
      resources: { cpus: 4, memMiB: 4096, diskMiB: 4096, ports: [[31900, 31999]] },
      workDir,
      clock: systemClock,
      logger,
      offerIntervalMs: 200,
      outbox: { retryMs: 100, ackTimeoutMs: 1_000 },
    });
  }

  async function stopEdge(): Promise<void> {
    await agent.stop({ keepTasks: true });
    await agentBus.close();
  }

  async function tasks(): Promise<Task[]> {
    return ((await api.get('/v2/tasks')).body as { tasks: Task[] }).tasks;
  }

  /** Every status the master took for a task, in the order it took them. */
  async function statusesOf(taskId: string): Promise<string[]> {
    return (await store.events.since(0, 100_000))
      .filter((e) => e.eventType === 'status_update_event' && e.payload.taskId === taskId)
      .map((e) => e.payload.taskStatus as string);
  }

  /** The master's running tasks are exactly the agent's. */
  async function viewsMatch(): Promise<boolean> {
    const running = (await tasks()).filter((t) => t.state === 'TASK_RUNNING').map((t) => t.id);
    return JSON.stringify(running.sort()) === JSON.stringify(driver.running().sort());
  }

  /** Whether the agent's outbox file holds `state` for `taskId` (the link is cut: it waits). */
  async function isHeld(taskId: string, state: string): Promise<boolean> {
    const text = await readFile(path.join(workDir, OUTBOX_FILE), 'utf8');
    return text
      .split('\n')
      .some((line) => line.includes(`"taskId":"${taskId}"`) && line.includes(`"${state}"`));
  }

  /** Each task's statuses are a run of the lifecycle, in order, with at most one end. */
  function expectInOrder(statuses: string[]): void {
    const ranks = statuses.map((s) => (ORDER.includes(s) ? ORDER.indexOf(s) : ORDER.length));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(ranks.filter((r) => r === ORDER.length).length).toBeLessThanOrEqual(1);
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    store = await createPostgresStore({ url: database.url, logger });
    masterBus = createRedisBus({ url: REDIS_URL, prefix, logger });
    master = await startMaster({
      store,
      bus: masterBus,
      clock: systemClock,
      logger,
      masterId: 'flaky-link-test',
      port: 0,
      host: '127.0.0.1',
      publicUrl: 'http://127.0.0.1:8080',
      version: '0.0.0',
      agentTimeoutMs: 120_000,
    });
    api = apiClient(`http://127.0.0.1:${master.port}`);
    const { hostname, port } = new URL(REDIS_URL);
    link = await createTcpProxy({ host: hostname, port: Number(port) });
    workDir = await tempDir('flaky-agent');
    await startEdge();
    const created = await api.post('/v2/apps', {
      id: '/flaky/app',
      cmd: 'service.wasm',
      cpus: 0.1,
      mem: 16,
      instances: 3,
    });
    expect(created.status).toBe(201);
    await waitFor(
      '3 tasks running',
      async () => (await viewsMatch()) && driver.running().length === 3,
    );
  }, 60_000);

  afterAll(async () => {
    await agent?.stop().catch(() => undefined);
    await agentBus?.close();
    await master?.stop();
    await masterBus?.close();
    await store?.close();
    await database?.drop();
    await link?.close();
  }, 60_000);

  it('reports once, after the link is back, a task that ended while it was cut; the rest kept running', async () => {
    const [ended, ...kept] = driver.running() as [string, ...string[]];
    link.cut();
    await driver.stop(ended);
    await waitFor('the end held in the outbox', () => isHeld(ended, 'TASK_KILLED'));
    // Still running as far as the master knows: nothing crossed the cut.
    expect((await tasks()).find((t) => t.id === ended)?.state).toBe('TASK_RUNNING');
    link.restore();
    await waitFor('the end reported', async () =>
      (await statusesOf(ended)).includes('TASK_KILLED'),
    );
    await waitFor(
      'a replacement, and the views to match',
      async () => (await viewsMatch()) && driver.running().length === 3,
    );
    const statuses = await statusesOf(ended);
    expect(statuses.filter((s) => s === 'TASK_KILLED')).toHaveLength(1);
    expect(statuses).not.toContain('TASK_GONE');
    expectInOrder(statuses);
    // The others ran through the cut: the same tasks, never replaced.
    for (const taskId of kept) expect(driver.running()).toContain(taskId);
  });

  it('replays from disk what a restarted agent held when the link was cut', async () => {
    const [ended] = driver.running() as [string];
    link.cut();
    await driver.stop(ended);
    await waitFor('the end held in the outbox', () => isHeld(ended, 'TASK_KILLED'));
    // The agent process goes away with the end unsent; its tasks keep running (the same driver).
    await stopEdge();
    const restarting = startEdge();
    link.restore();
    await restarting;
    await waitFor('the end reported', async () =>
      (await statusesOf(ended)).includes('TASK_KILLED'),
    );
    await waitFor(
      'the views to match',
      async () => (await viewsMatch()) && driver.running().length === 3,
    );
    const statuses = await statusesOf(ended);
    expect(statuses.filter((s) => s === 'TASK_KILLED')).toHaveLength(1);
    expectInOrder(statuses);
  });

  it("keeps every task's updates in order and once through a delayed link reset over and over", async () => {
    // The app's creation may still be deploying (its last step ends in a pass after a status, and
    // such passes are paced): a PUT then is refused with 409, as Marathon refuses it.
    await waitFor(
      'no deployment running',
      async () => ((await api.get('/v2/deployments')).body as unknown[]).length === 0,
    );
    link.delay(30);
    const scaled = await api.put('/v2/apps/flaky/app', { instances: 8 });
    expect(scaled.status).toBe(200);
    for (let reset = 0; reset < 3; reset++) {
      const accepted = link.accepted();
      link.resetAll();
      await waitFor('the agent to reconnect', () => link.accepted() > accepted);
    }
    const victims = driver.running().slice(0, 2);
    for (const taskId of victims) await driver.stop(taskId);
    link.resetAll();
    await waitFor(
      '8 running, and the views to match',
      async () => (await viewsMatch()) && driver.running().length === 8,
    );
    link.delay(0);
    for (const taskId of victims) {
      await waitFor('the end reported', async () =>
        (await statusesOf(taskId)).includes('TASK_KILLED'),
      );
      expect((await statusesOf(taskId)).filter((s) => s === 'TASK_KILLED')).toHaveLength(1);
    }
    for (const task of await tasks()) expectInOrder(await statusesOf(task.id));
  });
});
