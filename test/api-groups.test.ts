// Routes of /v2/groups: the tree implied by app ids, create, update (removal, scaleBy, dryRun,
// rollback), delete, versions.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApi } from './support/api-doubles.js';
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
});

const sleepGroup = JSON.parse(
  await readFile(
    new URL(
      '../../shared/marathon-api/examples/system-tests/groups/sleep-group.json',
      import.meta.url,
    ),
    'utf8',
  ),
) as Record<string, unknown>;

interface Group {
  id: string;
  apps?: { id: string; instances: number }[];
  groups?: Group[];
  pods?: unknown[];
}

describe('POST /v2/groups', () => {
  it('creates the apps of a nested group: 201, Location, deployment result', async () => {
    const res = await api.json('POST', '/v2/groups', sleepGroup);
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe('/sleep-group');
    expect(res.headers.get('marathon-deployment-id')).toBeTruthy();
    expect((await api.store.apps.list()).map((a) => a.id)).toEqual([
      '/sleep-group/sleep/goodnight-1',
      '/sleep-group/sleep/goodnight-2',
    ]);
  });

  it('answers 409 when the group exists', async () => {
    await api.json('POST', '/v2/groups', sleepGroup);
    const res = await api.json('POST', '/v2/groups', sleepGroup);
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({
      message: 'Group /sleep-group is already created. Use PUT to change this group.',
    });
  });

  it('reports invalid apps at Marathon paths inside the group', async () => {
    const res = await api.json('POST', '/v2/groups', {
      id: '/bad',
      groups: [{ id: 'inner', apps: [{ id: 'a', cmd: 'x', cpus: 0 }] }],
    });
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({
      message: 'Object is not valid',
      details: [{ path: '/groups(0)/apps(0)/cpus', errors: ['got 0.0, expected 0.001 or more'] }],
    });
  });
});

describe('GET /v2/groups', () => {
  it('answers the tree with groups, apps and pods, also for a sub-group with a doubled slash', async () => {
    await api.json('POST', '/v2/groups', sleepGroup);
    const root = (await (await api.json('GET', '/v2/groups')).json()) as Group;
    expect(root.id).toBe('/');
    expect(root.apps).toEqual([]);
    expect(root.pods).toEqual([]);
    expect(root.groups!.map((g) => g.id)).toEqual(['/sleep-group']);
    const inner = (await (await api.json('GET', '/v2/groups//sleep-group/sleep')).json()) as Group;
    expect(inner.apps!.map((a) => a.id)).toEqual([
      '/sleep-group/sleep/goodnight-1',
      '/sleep-group/sleep/goodnight-2',
    ]);
  });

  it('leaves out what embed does not ask for', async () => {
    await api.json('POST', '/v2/groups', sleepGroup);
    const only = (await (await api.json('GET', '/v2/groups?embed=group.groups')).json()) as Group;
    expect(only).not.toHaveProperty('apps');
    expect(only).not.toHaveProperty('pods');
    expect(only.groups).toHaveLength(1);
  });

  it("answers 404 Group '/x' does not exist for a missing group", async () => {
    const res = await api.json('GET', '/v2/groups/nope');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ message: "Group '/nope' does not exist" });
  });
});

describe('PUT /v2/groups/{id}', () => {
  it('removes apps a listed level leaves out', async () => {
    await api.json('POST', '/v2/groups', sleepGroup);
    const res = await api.json('PUT', '/v2/groups/sleep-group/sleep', {
      apps: [{ id: 'goodnight-1', cmd: 'sleep 1000', instances: 2 }],
    });
    expect(res.status).toBe(200);
    const ids = (await api.store.apps.list()).map((a) => [a.id, a.instances]);
    expect(ids).toEqual([['/sleep-group/sleep/goodnight-1', 2]]);
  });

  it('scales every app by scaleBy, rounding up', async () => {
    await api.json('POST', '/v2/groups', sleepGroup);
    expect((await api.json('PUT', '/v2/groups/sleep-group', { scaleBy: 2.5 })).status).toBe(200);
    expect((await api.store.apps.list()).map((a) => a.instances)).toEqual([3, 3]);
  });

  it('answers the steps and deploys nothing with dryRun=true', async () => {
    await api.json('POST', '/v2/groups', sleepGroup);
    const before = api.orchestrator.changes.length;
    const res = await api.json('PUT', '/v2/groups/sleep-group?dryRun=true', {
      groups: [{ id: 'sleep', apps: [{ id: 'goodnight-3', cmd: 'sleep 1' }] }],
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      steps: [
        {
          actions: [
            { action: 'StopApplication', app: '/sleep-group/sleep/goodnight-1' },
            { action: 'StopApplication', app: '/sleep-group/sleep/goodnight-2' },
          ],
        },
        { actions: [{ action: 'StartApplication', app: '/sleep-group/sleep/goodnight-3' }] },
        { actions: [{ action: 'ScaleApplication', app: '/sleep-group/sleep/goodnight-3' }] },
      ],
    });
    expect(api.orchestrator.changes).toHaveLength(before);
  });

  it('rolls back to a version of the group', async () => {
    await api.json('POST', '/v2/groups', sleepGroup);
    const [first] = (await (
      await api.json('GET', '/v2/groups/sleep-group/versions')
    ).json()) as string[];
    api.clock.advance(1000);
    await api.json('PUT', '/v2/groups/sleep-group', { scaleBy: 3 });
    expect((await api.json('PUT', '/v2/groups/sleep-group', { version: first })).status).toBe(200);
    expect((await api.store.apps.list()).map((a) => a.instances)).toEqual([1, 1]);
  });
});

describe('DELETE /v2/groups/{id}', () => {
  it('removes everything under the group and answers a deployment result', async () => {
    await api.json('POST', '/v2/groups', sleepGroup);
    const res = await api.json('DELETE', '/v2/groups/sleep-group');
    expect(res.status).toBe(200);
    expect(Object.keys((await res.json()) as object).sort()).toEqual(['deploymentId', 'version']);
    expect(await api.store.apps.list()).toEqual([]);
  });
});
