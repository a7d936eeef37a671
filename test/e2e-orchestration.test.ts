// Orchestration end to end: a master and three agent processes on real Postgres and Redis.
// Spread by constraint, replacement after an agent dies, a rolling restart that never drops
// below minimumHealthCapacity, and a master killed in the middle of a deployment.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  startPacer,
  tempDir,
  waitFor,
  waitForApi,
  type PacerProcess,
  prepareCluster,
  type ClusterSetup,
  agentPortRanges,
} from './support/cluster.js';
import { hasService } from './support/services.js';

const ok = (await hasService('postgres')) && (await hasService('redis'));
const SERVICE_WASM = path.resolve('wasm-tasks/build/service.wasm');

interface Task {
  id: string;
  host: string;
  state: string;
  version: string;
}

describe.skipIf(!ok)('orchestration with three agents', () => {
  let db: { url: string; drop: () => Promise<void> };
  let master: PacerProcess;
  const agents = new Map<string, { process: PacerProcess; workDir: string }>();
  let env: Record<string, string>;
  let port: number;
  let api: ClusterSetup['api'];
  let uri: string;

  async function startMasterProcess(): Promise<void> {
    master = startPacer(['master', '--port', String(port), '--host', '127.0.0.1'], env);
    await waitForApi(api.url, master);
  }

  const portsOf = agentPortRanges();

  async function startAgent(hostname: string, workDir: string): Promise<void> {
    const process = startPacer(
      [
        'agent',
        '--hostname',
        hostname,
        '--attributes',
        `rack:${hostname}`,
        '--resources',
        `cpus:4,mem:2048,disk:1024,ports:[${portsOf(hostname)}]`,
        '--work-dir',
        workDir,
      ],
      env,
    );
    agents.set(hostname, { process, workDir });
  }

  async function activeAgents(): Promise<number> {
    const body = (await api.get('/v2/agents')).body;
    return ((body.agents ?? body) as { state: string }[]).filter((a) => a.state === 'active')
      .length;
  }

  async function tasksOf(appId: string): Promise<Task[]> {
    return (await api.get(`/v2/apps${appId}/tasks`)).body.tasks as Task[];
  }

  async function allRunning(appId: string, count: number): Promise<Task[] | undefined> {
    const tasks = await tasksOf(appId);
    return tasks.length === count && tasks.every((t) => t.state === 'TASK_RUNNING')
      ? tasks
      : undefined;
  }

  beforeAll(async () => {
    ({ db, port, api, env } = await prepareCluster({
      PACER_OFFER_INTERVAL_MS: '250',
      PACER_AGENT_TIMEOUT_MS: '2000',
    }));
    await startMasterProcess();
    for (const name of ['a1', 'a2', 'a3']) await startAgent(name, await tempDir(`pacer-${name}`));
    await waitFor('three agents', async () => (await activeAgents()) === 3, 30_000);
    const bytes = await readFile(SERVICE_WASM);
    const upload = await api.post('/v2/artifacts', new Uint8Array(bytes), {
      'content-type': 'application/wasm',
    });
    uri = `${upload.body.uri as string}/service.wasm`;
  }, 90_000);

  afterEach(async () => {
    for (const app of (await api.get('/v2/apps')).body.apps as { id: string }[]) {
      await api.delete(`/v2/apps${app.id}?force=true`);
    }
    await waitFor(
      'no tasks left',
      async () => (await api.get('/v2/tasks')).body.tasks.length === 0,
      30_000,
    );
  });

  afterAll(async () => {
    await Promise.all(
      [...[...agents.values()].map((a) => a.process), master].filter(Boolean).map((p) => p.stop()),
    );
    await db?.drop();
  });

  const app = (id: string, extra: Record<string, unknown> = {}) => ({
    id,
    cpus: 0.1,
    mem: 16,
    fetch: [{ uri }],
    cmd: 'service.wasm 100',
    ...extra,
  });

  it('spreads a UNIQUE app one instance per agent', async () => {
    expect(
      (
        await api.post(
          '/v2/apps',
          app('/spread', { instances: 3, constraints: [['hostname', 'UNIQUE']] }),
        )
      ).status,
    ).toBe(201);
    const tasks = await waitFor('3 running', () => allRunning('/spread', 3));
    expect(tasks.map((t) => t.host).sort()).toEqual(['a1', 'a2', 'a3']);
  });

  it('replaces the instances of a killed agent on the others', async () => {
    expect(
      (
        await api.post(
          '/v2/apps',
          app('/replaced', { instances: 3, constraints: [['hostname', 'UNIQUE']] }),
        )
      ).status,
    ).toBe(201);
    await waitFor('3 running', () => allRunning('/replaced', 3));
    // The deployment ends on the pass after its instances run; a change before that is a 409.
    await waitFor(
      'the create to finish',
      async () => (await api.get('/v2/deployments')).body.length === 0,
      30_000,
    );
    // Lift UNIQUE so the lost instance has somewhere to go.
    const updated = await api.put('/v2/apps/replaced', { constraints: [] });
    expect(updated.status).toBe(200);
    await waitFor(
      'the update to deploy',
      async () => (await api.get('/v2/deployments')).body.length === 0,
      30_000,
    );
    const before = await waitFor('3 running after update', () => allRunning('/replaced', 3));
    const victim = before[0]!.host;
    await agents.get(victim)!.process.stop({ hard: true });
    const after = await waitFor(
      'a replacement on the surviving agents',
      async () => {
        const tasks = await allRunning('/replaced', 3);
        return tasks?.every((t) => t.host !== victim) ? tasks : undefined;
      },
      30_000,
    );
    expect(after).toHaveLength(3);
    // The dead agent comes back (same work dir, same id) and is used again, with nothing duplicated.
    await startAgent(victim, agents.get(victim)!.workDir);
    await waitFor('three agents again', async () => (await activeAgents()) === 3, 30_000);
    expect(await allRunning('/replaced', 3)).toHaveLength(3);
  });

  it('keeps minimumHealthCapacity during a rolling restart', async () => {
    const instances = 6;
    const minimumHealthCapacity = 0.5;
    expect(
      (
        await api.post(
          '/v2/apps',
          app('/rolling', {
            instances,
            upgradeStrategy: { minimumHealthCapacity, maximumOverCapacity: 0 },
          }),
        )
      ).status,
    ).toBe(201);
    const before = await waitFor('6 running', () => allRunning('/rolling', instances));
    await waitFor(
      'the first deployment to finish',
      async () => (await api.get('/v2/deployments')).body.length === 0,
    );
    const restart = await api.post('/v2/apps/rolling/restart');
    expect(restart.status).toBe(200);
    // Sampled until the deployment ends; each kill now waits its grace period (a Wasm task with
    // ports drains first), so the restart takes seconds. The deadline only bounds a failure.
    const samples: number[] = [];
    const deadline = performance.now() + 60_000;
    let done = false;
    while (!done) {
      const tasks = await tasksOf('/rolling');
      samples.push(tasks.filter((t) => t.state === 'TASK_RUNNING').length);
      done = (await api.get('/v2/deployments')).body.length === 0;
      if (!done && performance.now() > deadline)
        throw new Error(`the restart did not finish in 60 s (samples: ${samples.join(',')})`);
    }
    const after = await waitFor('6 running after restart', () => allRunning('/rolling', instances));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(
      Math.ceil(instances * minimumHealthCapacity),
    );
    expect(samples.length).toBeGreaterThan(1);
    // Every task was replaced by one of the new configuration.
    const oldIds = new Set(before.map((t) => t.id));
    expect(after.filter((t) => oldIds.has(t.id))).toEqual([]);
  }, 90_000);

  it('finishes a deployment with exactly the wanted instances after the master is SIGKILLed in the middle', async () => {
    expect((await api.post('/v2/apps', app('/interrupted', { instances: 30 }))).status).toBe(201);
    await master.stop({ hard: true });
    await startMasterProcess();
    await waitFor('30 running', () => allRunning('/interrupted', 30), 60_000);
    await waitFor(
      'the deployment to finish',
      async () => (await api.get('/v2/deployments')).body.length === 0,
      30_000,
    );
    // What the agents run matches what the master shows: no task was launched twice.
    const reported = await waitFor(
      'agents to report exactly 30 tasks',
      async () => {
        const body = (await api.get('/v2/agents')).body;
        const count = ((body.agents ?? body) as { runningTasks: string[] }[])
          .map((a) => a.runningTasks.length)
          .reduce((x, y) => x + y, 0);
        return count === 30 ? count : undefined;
      },
      30_000,
    );
    expect(reported).toBe(30);
  });
});
