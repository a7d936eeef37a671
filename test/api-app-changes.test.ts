// Routes that change apps or their tasks: PUT/PATCH/DELETE, restart, rollback, task kills,
// versions; each 2xx carries a JSON body and the deployment header.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { currentTaskId } from '../src/domain/index.js';
import { createTestApi, instanceOf } from './support/api-doubles.js';
import type { TestApi } from './support/api-doubles.js';

let api: TestApi;
beforeAll(async () => {
  api = await createTestApi();
});
afterAll(async () => {
  await api.close();
});
beforeEach(async () => {
  for (const app of await api.store.apps.list()) await api.store.apps.delete(app.id);
  for (const i of await api.store.instances.list()) await api.store.instances.delete(i.instanceId);
  for (const d of await api.store.deployments.list()) await api.store.deployments.delete(d.id);
  api.orchestrator.holdDeployments = false;
  api.orchestrator.changes.length = 0;
});

const simple = { id: '/g/simple', cmd: 'sleep 1000', cpus: 0.1, mem: 16, instances: 2 };

async function expectDeploymentResult(res: Response, status = 200) {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { deploymentId: string; version: string };
  expect(Object.keys(body).sort()).toEqual(['deploymentId', 'version']);
  expect(res.headers.get('marathon-deployment-id')).toBe(body.deploymentId);
  expect(body.version).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  return body;
}

describe('PUT /v2/apps/{id}', () => {
  it('answers 201 with Location when it creates, 200 when it replaces', async () => {
    const created = await api.json('PUT', '/v2/apps/g/simple', { ...simple, id: '/ignored' });
    await expectDeploymentResult(created, 201);
    expect(created.headers.get('location')).toBe('/g/simple');
    expect(await api.store.apps.get('/g/simple')).toBeDefined();
    await expectDeploymentResult(await api.json('PUT', '/v2/apps/g/simple', { instances: 3 }));
  });

  it('merges by default (partialUpdate=true) and replaces with partialUpdate=False', async () => {
    await api.json('POST', '/v2/apps', { ...simple, labels: { a: 'b' } });
    await api.json('PUT', '/v2/apps/g/simple', { instances: 5 });
    const merged = (await api.store.apps.get('/g/simple'))!;
    expect(merged.instances).toBe(5);
    expect(merged.labels).toEqual({ a: 'b' });
    expect(merged.versionInfo.lastConfigChangeAt).not.toBe(merged.versionInfo.lastScalingAt);
    await api.json('PUT', '/v2/apps/g/simple?partialUpdate=False', { cmd: 'sleep 1' });
    const replaced = (await api.store.apps.get('/g/simple'))!;
    expect(replaced.instances).toBe(1);
    expect(replaced.labels).toEqual({});
  });

  it('rolls back to a stored version given only {"version"}', async () => {
    const first = (await (await api.json('POST', '/v2/apps', simple)).json()) as {
      version: string;
    };
    api.clock.advance(1000);
    await api.json('PUT', '/v2/apps/g/simple', { cmd: 'sleep 2' });
    await expectDeploymentResult(
      await api.json('PUT', '/v2/apps/g/simple', { version: first.version }),
    );
    expect((await api.store.apps.get('/g/simple'))!.cmd).toBe('sleep 1000');
  });

  it("refuses 'version' combined with other fields, and an unknown version with 404", async () => {
    await api.json('POST', '/v2/apps', simple);
    const mixed = await api.json('PUT', '/v2/apps/g/simple', {
      version: '2020-01-01T00:00:00.000Z',
      cmd: 'x',
    });
    expect(mixed.status).toBe(422);
    expect(await mixed.json()).toEqual({
      message: 'Object is not valid',
      details: [
        { path: '/', errors: ["The 'version' field may only be combined with the 'id' field."] },
      ],
    });
    const missing = await api.json('PUT', '/v2/apps/g/simple', {
      version: '2020-01-01T00:00:00.000Z',
    });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      message: "App '/g/simple' does not exist in version 2020-01-01T00:00:00.000Z",
    });
  });

  it('answers 409 with the locking deployments unless force=True', async () => {
    api.orchestrator.holdDeployments = true;
    const first = await api.json('POST', '/v2/apps', simple);
    const deploymentId = first.headers.get('marathon-deployment-id');
    const locked = await api.json('PUT', '/v2/apps/g/simple', { instances: 3 });
    expect(locked.status).toBe(409);
    expect(await locked.json()).toEqual({
      message: `App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/${deploymentId}'.`,
      deployments: [{ id: deploymentId }],
    });
    await expectDeploymentResult(
      await api.json('PUT', '/v2/apps/g/simple?force=True', { instances: 3 }),
    );
  });
});

describe('PATCH, DELETE and restart', () => {
  it('PATCH changes only the given fields and answers 404 for an unknown app', async () => {
    await api.json('POST', '/v2/apps', simple);
    await expectDeploymentResult(
      await api.json('PATCH', '/v2/apps//g/simple', { env: { A: '1' } }),
    );
    const app = (await api.store.apps.get('/g/simple'))!;
    expect(app.env).toEqual({ A: '1' });
    expect(app.cmd).toBe('sleep 1000');
    expect((await api.json('PATCH', '/v2/apps/nope', { instances: 1 })).status).toBe(404);
  });

  it('DELETE removes the app with force defaulting to true', async () => {
    await api.json('POST', '/v2/apps', simple);
    await expectDeploymentResult(await api.json('DELETE', '/v2/apps/g/simple'));
    expect(api.orchestrator.changes.at(-1)).toEqual({
      change: { apps: [], remove: ['/g/simple'] },
      force: true,
    });
    expect(await api.store.apps.get('/g/simple')).toBeUndefined();
    expect((await api.json('DELETE', '/v2/apps/g/simple')).status).toBe(404);
  });

  it('POST /restart accepts an empty body and starts a restart deployment', async () => {
    await api.json('POST', '/v2/apps', simple);
    const res = await api.app.request('/v2/apps//g/simple/restart', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': '0' },
    });
    await expectDeploymentResult(res);
    expect(api.orchestrator.changes.at(-1)!.change.restart).toEqual(['/g/simple']);
  });
});

describe('tasks of an app', () => {
  async function withTasks() {
    await api.json('POST', '/v2/apps', simple);
    const app = (await api.store.apps.get('/g/simple'))!;
    const a = instanceOf(app, { host: 'agent-a' });
    const b = instanceOf(app, { host: 'agent-b', condition: 'Staging', startedAt: undefined });
    await api.store.instances.putMany([a, b]);
    return { a, b };
  }

  it('lists {"tasks":[…]} for the app and for {group}/*', async () => {
    const { a, b } = await withTasks();
    for (const path of ['/v2/apps/g/simple/tasks', '/v2/apps//g/*/tasks']) {
      const { tasks } = (await (await api.json('GET', path)).json()) as {
        tasks: { id: string; state: string }[];
      };
      expect(tasks.map((t) => [t.id, t.state]).sort()).toEqual(
        [
          [currentTaskId(a), 'TASK_RUNNING'],
          [currentTaskId(b), 'TASK_STAGING'],
        ].sort(),
      );
    }
  });

  it('kills tasks on one host and answers {"tasks":[…]}', async () => {
    const { a } = await withTasks();
    const res = await api.json('DELETE', '/v2/apps/g/simple/tasks?host=agent-a');
    expect(res.status).toBe(200);
    const { tasks } = (await res.json()) as { tasks: { id: string; state: string }[] };
    expect(tasks.map((t) => [t.id, t.state])).toEqual([[currentTaskId(a), 'TASK_KILLED']]);
  });

  it('refuses scale and wipe together with 400', async () => {
    await withTasks();
    const res = await api.json('DELETE', '/v2/apps/g/simple/tasks?scale=true&wipe=TRUE');
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      message: 'You cannot use scale and wipe at the same time.',
    });
  });

  it('kills one task: {"task"} without scale, a deployment with scale, 404 for an unknown id', async () => {
    const { a, b } = await withTasks();
    const one = await api.json('DELETE', `/v2/apps/g/simple/tasks/${currentTaskId(a)}`);
    expect(((await one.json()) as { task: { id: string } }).task.id).toBe(currentTaskId(a));
    await expectDeploymentResult(
      await api.json('DELETE', `/v2/apps/g/simple/tasks/${currentTaskId(b)}?scale=true`),
    );
    const missing = await api.json('DELETE', '/v2/apps/g/simple/tasks/nope.instance-x._app.1');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      message: "Task 'nope.instance-x._app.1' does not exist",
    });
  });

  it('GET /v2/tasks filters by status=running and keeps everything for unknown values', async () => {
    await withTasks();
    const running = (await (await api.json('GET', '/v2/tasks?status=running')).json()) as {
      tasks: unknown[];
    };
    expect(running.tasks).toHaveLength(1);
    const all = (await (await api.json('GET', '/v2/tasks?status=bogus')).json()) as {
      tasks: unknown[];
    };
    expect(all.tasks).toHaveLength(2);
  });
});

describe('versions', () => {
  it('lists {"versions"} newest first and answers the plain App at one version', async () => {
    const first = (await (await api.json('POST', '/v2/apps', simple)).json()) as {
      version: string;
    };
    api.clock.advance(1000);
    await api.json('PUT', '/v2/apps/g/simple', { cmd: 'sleep 5' });
    const { versions } = (await (await api.json('GET', '/v2/apps/g/simple/versions')).json()) as {
      versions: string[];
    };
    expect(versions).toHaveLength(2);
    expect(versions[1]).toBe(first.version);
    const old = (await (
      await api.json('GET', `/v2/apps/g/simple/versions/${first.version}`)
    ).json()) as Record<string, unknown>;
    expect(old.cmd).toBe('sleep 1000');
    expect(old).not.toHaveProperty('tasksRunning');
  });
});
