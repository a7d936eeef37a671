// End to end over real Postgres and Redis: one master and two agent processes run a Wasm app
// from artifact upload to TASK_RUNNING, logs and deletion; bad input and restarts lose nothing.
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
} from './support/cluster.js';
import { hasService } from './support/services.js';

const ok = (await hasService('postgres')) && (await hasService('redis'));
const SERVICE_WASM = path.resolve('wasm-tasks/build/service.wasm');

describe.skipIf(!ok)('master and two agents on Postgres and Redis', () => {
  let db: { url: string; drop: () => Promise<void> };
  let master: PacerProcess;
  const agents: PacerProcess[] = [];
  let env: Record<string, string>;
  let port: number;
  let api: ClusterSetup['api'];

  async function startMasterProcess(): Promise<void> {
    master = startPacer(['master', '--port', String(port), '--host', '127.0.0.1'], env);
    await waitForApi(api.url, master);
  }

  beforeAll(async () => {
    ({ db, port, api, env } = await prepareCluster({
      PACER_OFFER_INTERVAL_MS: '300',
      PACER_AGENT_TIMEOUT_MS: '3000',
    }));
    await startMasterProcess();
    for (const n of [1, 2]) {
      agents.push(
        startPacer(
          [
            'agent',
            '--hostname',
            `agent-${n}`,
            '--attributes',
            `zone:z${n}`,
            '--resources',
            // Ports of their own: both run on this machine, and a Wasm service binds its ports.
            `cpus:2,mem:512,disk:1024,ports:[${30900 + n * 100}-${30999 + n * 100}]`,
            '--work-dir',
            await tempDir(`pacer-agent-${n}`),
          ],
          env,
        ),
      );
    }
    await waitFor('two agents', async () => {
      const res = await api.get('/v2/agents');
      return res.status === 200 && (res.body.agents ?? res.body).length === 2;
    });
  }, 60_000);

  // Each test starts from an empty cluster, whatever the previous one left behind.
  afterEach(async () => {
    // A master restarted by the test may still be electing itself: wait for its answer.
    const apps = await waitFor('the apps listed', async () => {
      const res = await api.get('/v2/apps');
      return res.status === 200 ? (res.body.apps as { id: string }[]) : undefined;
    });
    for (const app of apps) await api.delete(`/v2/apps${app.id}?force=true`);
    await waitFor(
      'no tasks left',
      async () => (await api.get('/v2/tasks')).body.tasks.length === 0,
    );
  });

  afterAll(async () => {
    await Promise.all([...agents, master].filter(Boolean).map((p) => p.stop()));
    await db?.drop();
  });

  async function uploadService(): Promise<string> {
    const bytes = await readFile(SERVICE_WASM);
    const res = await api.post('/v2/artifacts', new Uint8Array(bytes), {
      'content-type': 'application/wasm',
    });
    expect(res.status).toBe(201);
    expect(res.body.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(res.body.size).toBe(bytes.length);
    return `${res.body.uri}/service.wasm`;
  }

  /** The app's tasks once there are `count` and all run (a deployment places them one by one). */
  async function runningTasks(appId: string, count: number): Promise<any[] | undefined> {
    const res = await api.get(`/v2/apps${appId}/tasks`);
    const tasks = res.body.tasks as any[];
    return tasks.length === count && tasks.every((t) => t.state === 'TASK_RUNNING')
      ? tasks
      : undefined;
  }

  it('runs a Wasm app on the agents, shows its tasks and logs, and deletes it', async () => {
    const uri = await uploadService();
    const created = await api.post('/v2/apps', {
      id: '/edge/service',
      instances: 4,
      cpus: 0.5,
      mem: 32,
      fetch: [{ uri }],
      cmd: 'service.wasm 200',
      env: { NAME: 'world' },
      constraints: [['hostname', 'MAX_PER', '2']],
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toContain('/edge/service');
    expect(created.headers.get('marathon-deployment-id')).toBeTruthy();
    expect(created.body.id).toBe('/edge/service');

    const tasks = await waitFor('4 running tasks', () => runningTasks('/edge/service', 4));
    expect(tasks).toHaveLength(4);
    expect(new Set(tasks.map((t) => t.host))).toEqual(new Set(['agent-1', 'agent-2']));
    for (const task of tasks) {
      expect(task.id).toMatch(/^edge_service\.instance-[0-9a-f-]{36}\._app\.1$/);
      expect(task.appId).toBe('/edge/service');
      expect(task.startedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(task.ports).toHaveLength(1);
    }

    const app = await api.get('/v2/apps//edge/service');
    expect(app.status).toBe(200);
    expect(app.body.app.tasksRunning).toBe(4);
    await waitFor(
      'the deployment to finish',
      async () => (await api.get('/v2/deployments')).body.length === 0,
    );

    const taskId = tasks[0].id as string;
    const logs = await waitFor('stdout lines', async () => {
      const res = await api.get(`/v2/tasks/${taskId}/logs?stream=stdout`);
      return res.status === 200 && JSON.stringify(res.body).includes('tick 2')
        ? res.body
        : undefined;
    });
    expect(JSON.stringify(logs)).toContain('tick 1');

    const deleted = await api.delete('/v2/apps/edge/service');
    expect(deleted.status).toBe(200);
    expect(deleted.body.deploymentId).toBeTruthy();
    await waitFor(
      'the app to be gone',
      async () => (await api.get('/v2/apps/edge/service')).status === 404,
    );
    await waitFor(
      'no tasks left',
      async () => (await api.get('/v2/tasks')).body.tasks.length === 0,
    );
  });

  it('answers bad input with Marathon-shaped errors', async () => {
    const badJson = await api.post('/v2/apps', '{"id": ');
    expect(badJson.status).toBe(400);
    expect(badJson.body.message).toBe('Invalid JSON');
    const invalid = await api.post('/v2/apps', { id: '/bad', cmd: 'x.wasm', cpus: -1 });
    expect(invalid.status).toBe(422);
    expect(invalid.body.message).toBe('Object is not valid');
    expect(invalid.body.details.some((d: any) => d.path === '/cpus')).toBe(true);
  });

  it('fails a task whose module cannot be fetched with FETCH_FAILED', async () => {
    const res = await api.post('/v2/apps', {
      id: '/broken',
      cpus: 0.1,
      mem: 16,
      fetch: [{ uri: `${api.url}/v2/artifacts/sha256:${'0'.repeat(64)}/missing.wasm` }],
      cmd: 'missing.wasm',
    });
    expect(res.status).toBe(201);
    const failure = await waitFor(
      'a lastTaskFailure',
      async () => (await api.get('/v2/apps/broken')).body.app.lastTaskFailure,
    );
    expect(failure.state).toBe('TASK_FAILED');
    expect(failure.message).toMatch(/^FETCH_FAILED/);
    expect((await api.delete('/v2/apps/broken')).status).toBe(200);
  });

  it('keeps accepted apps and running tasks across a master restart', async () => {
    const uri = await uploadService();
    expect(
      (
        await api.post('/v2/apps', {
          id: '/survivor',
          instances: 2,
          cpus: 0.1,
          mem: 16,
          fetch: [{ uri }],
          cmd: 'service.wasm',
        })
      ).status,
    ).toBe(201);
    const before = await waitFor('2 running tasks', () => runningTasks('/survivor', 2));
    await master.stop({ hard: true });
    await startMasterProcess();
    const app = await api.get('/v2/apps/survivor');
    expect(app.status).toBe(200);
    expect(app.body.app.instances).toBe(2);
    // The agents keep running the same tasks: after restart they are adopted, not duplicated.
    const after = await waitFor('2 running tasks after restart', () =>
      runningTasks('/survivor', 2),
    );
    expect(after.map((t) => t.id).sort()).toEqual(before.map((t) => t.id).sort());
    expect((await api.delete('/v2/apps/survivor')).status).toBe(200);
  });
});
