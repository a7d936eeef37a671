// A top-level group's `enforceRole` through a real master (PGlite and Postgres): stored with its
// group (even with no app), shown in the group tree, the default role of the apps under it and
// the only role they may take (Marathon 1.9's RoleSettings); kept for the next master.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryBus } from '../src/bus/index.js';
import { silentLogger, systemClock } from '../src/lib/index.js';
import { startMaster } from '../src/cli/start-master.js';
import type { RunningMaster } from '../src/cli/start-master.js';
import type { Store } from '../src/store/index.js';
import { describeOnEveryStore, type OpenStore } from './support/every-store.js';
import { waitFor } from './support/wait-for.js';

function start(store: Store): Promise<RunningMaster> {
  return startMaster({
    store,
    bus: createMemoryBus(),
    clock: systemClock,
    logger: silentLogger(),
    masterId: 'enforce-role-test',
    port: 0,
    host: '127.0.0.1',
    publicUrl: 'http://127.0.0.1:8080',
    version: '0.0.0',
    agentTimeoutMs: 60_000,
  });
}

const app = (id: string, fields: object = {}) => ({
  id,
  cmd: 'hello.wasm',
  cpus: 0.01,
  mem: 16,
  instances: 0,
  ...fields,
});

interface GroupJson {
  id: string;
  enforceRole: boolean;
  apps: { id: string; role: string }[];
  groups: GroupJson[];
}

function describeEnforceRole(name: string, open: OpenStore): void {
  describe(`group enforceRole: ${name}`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    let master: RunningMaster;

    beforeAll(async () => {
      ({ store, dispose } = await open());
      master = await start(store);
    });
    afterAll(async () => {
      await master?.stop();
      await dispose?.();
    });

    async function call(method: string, path: string, body?: unknown) {
      const response = await fetch(`http://127.0.0.1:${master.port}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
    }
    const roleOf = async (id: string) =>
      ((await call('GET', `/v2/apps${id}`)).body as { app: { role: string } }).app.role;

    it('stores a new top-level group with enforceRole and shows it, even with no app', async () => {
      const created = await call('POST', '/v2/groups', { id: '/web', enforceRole: true });
      expect(created.status).toBe(201);
      expect(await store.groups.list()).toContainEqual({ id: '/web', enforceRole: true });
      const group = await call('GET', '/v2/groups/web');
      expect(group.status).toBe(200);
      expect(group.body).toMatchObject({ id: '/web', enforceRole: true, apps: [] });
      const root = (await call('GET', '/v2/groups')).body as GroupJson;
      expect(root.enforceRole).toBe(false);
      expect(root.groups).toContainEqual(
        expect.objectContaining({ id: '/web', enforceRole: true }),
      );
      // POST again: the group exists now.
      expect((await call('POST', '/v2/groups', { id: '/web' })).status).toBe(409);
    });

    it("gives an app under it the group's name as role, and refuses '*' (422 at /role)", async () => {
      const created = await call('POST', '/v2/apps', app('/web/api'));
      expect(created.status).toBe(201);
      expect((created.body as { role: string }).role).toBe('web');
      expect(await roleOf('/web/api')).toBe('web');
      const refused = await call('POST', '/v2/apps', app('/web/star', { role: '*' }));
      expect(refused.status).toBe(422);
      expect(refused.body).toEqual({
        message: 'Object is not valid',
        details: [{ path: '/role', errors: ['got *, expected one of: [web]'] }],
      });
      const inGroup = await call('POST', '/v2/groups/web/more', {
        apps: [app('x', { role: 'db' })],
      });
      expect(inGroup.status).toBe(422);
      expect(inGroup.body).toEqual({
        message: 'Object is not valid',
        details: [{ path: '/apps(0)/role', errors: ['got db, expected one of: [web]'] }],
      });
    });

    it("leaves a group without enforceRole at '*', allowing its name too", async () => {
      expect((await call('POST', '/v2/apps', app('/free/a'))).status).toBe(201);
      expect(await roleOf('/free/a')).toBe('*');
      expect((await call('POST', '/v2/apps', app('/free/b', { role: 'free' }))).status).toBe(201);
      const other = await call('POST', '/v2/apps', app('/free/c', { role: 'web' }));
      expect(other.status).toBe(422);
      expect(other.body).toMatchObject({
        details: [{ path: '/role', errors: ['got web, expected one of: [*, free]'] }],
      });
    });

    it('creates a group that enforces its role together with its apps, which take the role', async () => {
      const created = await call('POST', '/v2/groups', {
        id: '/batch',
        enforceRole: true,
        apps: [app('job'), app('nested/job')],
      });
      expect(created.status).toBe(201);
      expect(await roleOf('/batch/job')).toBe('batch');
      expect(await roleOf('/batch/nested/job')).toBe('batch');
    });

    it('refuses enforceRole on a group that is not top-level', async () => {
      const refused = await call('PUT', '/v2/groups', {
        id: '/',
        groups: [{ id: '/prod', groups: [{ id: 'second', enforceRole: true }] }],
      });
      expect(refused.status).toBe(422);
      expect(refused.body).toEqual({
        message: 'Object is not valid',
        details: [
          {
            path: '/groups(0)/groups(0)/enforceRole',
            errors: [
              'enforceRole can only be set for top-level groups, and /prod/second is not top-level',
            ],
          },
        ],
      });
    });

    it('refuses to change enforceRole of an existing group in a request that changes apps', async () => {
      const refused = await call('PUT', '/v2/groups/free', {
        enforceRole: true,
        apps: [app('a'), app('b', { role: 'free' })],
      });
      expect(refused.status).toBe(422);
      expect(refused.body).toMatchObject({ details: [{ path: '/enforceRole' }] });
      expect(await store.groups.list()).not.toContainEqual({ id: '/free', enforceRole: true });
    });

    /** Deployments end in the master's next pass; a change to an app under one answers 409. */
    async function deploymentsDone(): Promise<void> {
      await waitFor('no deployment', async () => {
        const deployments = (await call('GET', '/v2/deployments')).body as unknown[];
        return deployments.length === 0;
      });
    }

    it("turns enforceRole on with PATCH: the apps keep their role, new ones get the group's", async () => {
      await deploymentsDone();
      const patched = await call('PATCH', '/v2/groups/free', { enforceRole: true });
      expect(patched.status).toBe(200);
      expect(((await call('GET', '/v2/groups/free')).body as GroupJson).enforceRole).toBe(true);
      // '/free/a' keeps '*' (its current role stays valid) ...
      const kept = await call(
        'PUT',
        '/v2/apps/free/a',
        app('/free/a', { role: '*', instances: 0 }),
      );
      expect(kept.status).toBe(200);
      expect(await roleOf('/free/a')).toBe('*');
      await deploymentsDone(); // else the next change to the app is refused (409, as Marathon)
      // ... a full replacement without a role takes the group's ...
      const replaced = await call(
        'PUT',
        '/v2/apps/free/a?partialUpdate=false',
        app('/free/a', { instances: 0 }),
      );
      expect(replaced.status).toBe(200);
      expect(await roleOf('/free/a')).toBe('free');
      // ... and a new app may not take '*'.
      expect((await call('POST', '/v2/apps', app('/free/d', { role: '*' }))).status).toBe(422);
      expect((await call('PATCH', '/v2/groups/free', { enforceRole: false })).status).toBe(200);
      expect(((await call('GET', '/v2/groups/free')).body as GroupJson).enforceRole).toBe(false);
    });

    it('keeps the records for the next master, and removes one with its group', async () => {
      await master.stop();
      master = await start(store);
      expect(((await call('GET', '/v2/groups/web')).body as GroupJson).enforceRole).toBe(true);
      expect((await call('POST', '/v2/apps', app('/web/after'))).body).toMatchObject({
        role: 'web',
      });
      expect((await call('DELETE', '/v2/groups/web?force=true')).status).toBe(200);
      expect(await store.groups.list()).not.toContainEqual({ id: '/web', enforceRole: true });
      expect((await call('GET', '/v2/groups/web')).status).toBe(404);
      expect((await call('POST', '/v2/apps', app('/web/again'))).body).toMatchObject({ role: '*' });
    });
  });
}

await describeOnEveryStore(describeEnforceRole);
