// /v2/quota and /v2/weights: admin only, validated, stored through the master's applier in the
// store (PGlite here, the same migrations as Postgres) and read back after a reload.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RolePoliciesPort } from '../src/api/index.js';
import { Action } from '../src/domain/index.js';
import { silentLogger, systemClock } from '../src/lib/index.js';
import { createApplier } from '../src/master/applier/index.js';
import type { Applier } from '../src/master/applier/index.js';
import { createRolePolicies } from '../src/master/role-policies.js';
import { createTestApi } from './support/api-doubles.js';
import type { TestApi } from './support/api-doubles.js';
import { as, principalsByName } from './support/test-principals.js';
import { createEventHubDouble } from './support/api-doubles.js';

let api: TestApi;
let applier: Applier;
let port: RolePoliciesPort | undefined;
let kicks = 0;

/** The port the routes call, built once the test API's store exists. */
const forward: RolePoliciesPort = {
  list: () => (port as RolePoliciesPort).list(),
  get: (role) => (port as RolePoliciesPort).get(role),
  setQuota: (role, quota) => (port as RolePoliciesPort).setQuota(role, quota),
  setWeight: (role, weight) => (port as RolePoliciesPort).setWeight(role, weight),
};

const newApplier = async () => {
  const made = createApplier({
    store: api.store,
    events: createEventHubDouble(systemClock),
    logger: silentLogger(),
  });
  await made.load();
  return made;
};

beforeAll(async () => {
  api = await createTestApi({
    roles: forward,
    auth: principalsByName([
      { name: 'admin', grants: [{ path: '/', actions: [Action.ADMIN] }] },
      { name: 'team', grants: [{ path: '/team', actions: [Action.ADMIN, Action.CREATE] }] },
    ]),
  });
  applier = await newApplier();
  port = createRolePolicies({ applier, kickAll: () => void kicks++ });
});
afterAll(async () => {
  await api.close();
});

function call(method: string, path: string, options: { body?: unknown; who?: string } = {}) {
  return api.app.request(path, {
    method,
    headers: as(options.who ?? 'admin', { 'Content-Type': 'application/json' }),
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
}

describe('/v2/quota', () => {
  it('sets, reads, lists and removes a quota, and kicks the scheduler on each change', async () => {
    const before = kicks;
    const body = { guarantees: { cpus: 2, mem: 1024 }, limits: { cpus: 4, mem: 4096 } };
    const put = await call('PUT', '/v2/quota/web', { body });
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ role: 'web', ...body });
    expect(await (await call('GET', '/v2/quota/web')).json()).toEqual({ role: 'web', ...body });
    expect(await (await call('GET', '/v2/quota')).json()).toEqual({
      quotas: [{ role: 'web', ...body }],
    });
    expect(kicks).toBe(before + 1);
    expect((await call('DELETE', '/v2/quota/web')).status).toBe(204);
    expect(await (await call('GET', '/v2/quota/web')).json()).toEqual({
      role: 'web',
      guarantees: {},
      limits: {},
    });
    expect((await call('DELETE', '/v2/quota/web')).status).toBe(404);
  });

  it('keeps quota and weight in Postgres: a reloaded master reads them back', async () => {
    await call('PUT', '/v2/quota/data', { body: { limits: { cpus: 3 } } });
    await call('PUT', '/v2/weights/data', { body: { weight: 2.5 } });
    const reloaded = await newApplier();
    expect(reloaded.roles.get('data')).toEqual({
      role: 'data',
      quota: { guarantees: {}, limits: { cpus: 3 } },
      weight: 2.5,
    });
    // Removing one part keeps the other.
    await call('DELETE', '/v2/quota/data');
    expect((await newApplier()).roles.get('data')).toEqual({ role: 'data', weight: 2.5 });
  });

  it.each([
    [
      'a guarantee above its limit',
      { guarantees: { cpus: 5 }, limits: { cpus: 4 } },
      '/guarantees/cpus',
    ],
    ['a negative amount', { limits: { mem: -1 } }, '/limits/mem'],
    ['an infinite amount', { limits: { cpus: 1e300 } }, '/limits/cpus'],
  ])('refuses %s with 422', async (_name, body, path) => {
    const response = await call('PUT', '/v2/quota/web', { body });
    expect(response.status).toBe(422);
    const answer = (await response.json()) as { details: { path: string }[] };
    expect(answer.details.map((d) => d.path)).toContain(path);
  });

  it('refuses a field it does not know rather than ignoring it', async () => {
    const response = await call('PUT', '/v2/quota/web', { body: { guarantee: { cpus: 1 } } });
    expect([400, 422]).toContain(response.status);
    expect(forward.get('web')).toBeUndefined();
  });

  it("refuses a quota for the default role '*' (422)", async () => {
    const response = await call('PUT', '/v2/quota/*', { body: { limits: { cpus: 1 } } });
    expect(response.status).toBe(422);
  });

  it.each(['-web', 'a%20b', 'a%09b', 'a'.repeat(129)])(
    'refuses the role name %s with 422',
    async (role) => {
      const response = await call('PUT', `/v2/quota/${role}`, { body: { limits: { cpus: 1 } } });
      expect(response.status).toBe(422);
    },
  );
});

describe('/v2/weights', () => {
  it('sets and reads a weight; a role without one weighs 1', async () => {
    expect(await (await call('GET', '/v2/weights/batch')).json()).toEqual({
      role: 'batch',
      weight: 1,
    });
    const put = await call('PUT', '/v2/weights/batch', { body: { weight: 2 } });
    expect(await put.json()).toEqual({ role: 'batch', weight: 2 });
    expect(await (await call('GET', '/v2/weights/batch')).json()).toEqual({
      role: 'batch',
      weight: 2,
    });
    const list = (await (await call('GET', '/v2/weights')).json()) as { weights: unknown[] };
    expect(list.weights).toContainEqual({ role: 'batch', weight: 2 });
    expect((await call('DELETE', '/v2/weights/batch')).status).toBe(204);
    expect((await call('DELETE', '/v2/weights/batch')).status).toBe(404);
  });

  it.each([0, -1, 'two', 1e7])('refuses the weight %s', async (weight) => {
    const response = await call('PUT', '/v2/weights/batch', { body: { weight } });
    expect([400, 422]).toContain(response.status);
    expect(forward.get('batch')).toBeUndefined();
  });
});

describe('hostile role names in the path', () => {
  const bodyOf = (path: string) =>
    path.includes('weights') ? { weight: 2 } : { limits: { cpus: 1 } };

  it.each(['/v2/quota/', '/v2/weights/'])(
    'answers %s<hostile role> with a 4xx and stores nothing',
    async (base) => {
      const hostile = ['', '%00', 'a%00b', '%2F', '%20', '-x', 'x'.repeat(5000), '%0a', '%7f'];
      for (const role of hostile) {
        for (const method of ['PUT', 'GET', 'DELETE']) {
          const response = await call(method, `${base}${role}`, {
            ...(method === 'PUT' ? { body: bodyOf(base) } : {}),
          });
          const label = `${method} ${base}${role.slice(0, 12)}`;
          // `GET /v2/quota/` is the list (200); every other answer is a refusal.
          if (method !== 'GET' || role !== '')
            expect(response.status, label).toBeGreaterThanOrEqual(400);
          expect(response.status, label).toBeLessThan(500);
        }
      }
      expect(forward.list().map((p) => p.role)).not.toContain('');
      expect(forward.list().every((p) => p.role.length <= 128 && !p.role.includes('\u0000'))).toBe(
        true,
      );
    },
  );

  it("refuses a quota for '*' however it is spelled, and keeps '*' weighable", async () => {
    for (const role of ['*', '%2A', '%2a'])
      expect(
        (await call('PUT', `/v2/quota/${role}`, { body: { limits: { cpus: 1 } } })).status,
      ).toBe(422);
    // Mesos has no quota for '*', but '*' is a role DRF weighs like any other.
    expect((await call('PUT', '/v2/weights/%2A', { body: { weight: 2 } })).status).toBe(200);
    expect((await call('DELETE', '/v2/weights/*')).status).toBe(204);
  });

  it('never reaches the handlers through dot segments (the URL resolves them first)', async () => {
    // `/v2/quota/..` is `/v2/` once parsed (WHATWG URL, as every HTTP server here parses it): an
    // unknown route, which answers as Marathon's do (BEHAVIOUR.md: 500 "URI not found").
    for (const role of ['..', '%2e%2e', '.%2E'])
      for (const base of ['/v2/quota/', '/v2/weights/']) {
        const response = await call('PUT', `${base}${role}`, { body: bodyOf(base) });
        expect(response.status).not.toBe(200);
        expect(await response.json()).toEqual({ message: 'URI not found' });
      }
    expect(forward.list().map((p) => p.role)).not.toContain('..');
  });
});

describe('who may', () => {
  it.each([
    ['GET', '/v2/quota'],
    ['GET', '/v2/quota/web'],
    ['PUT', '/v2/quota/team'],
    ['DELETE', '/v2/quota/web'],
    ['GET', '/v2/weights'],
    ['GET', '/v2/weights/web'],
    ['PUT', '/v2/weights/team'],
    ['DELETE', '/v2/weights/web'],
  ])('answers %s %s with 403 to an admin of one path only', async (method, path) => {
    const body = path.includes('weights') ? { weight: 5 } : { limits: { cpus: 100 } };
    const response = await call(method, path, {
      who: 'team',
      ...(method === 'PUT' ? { body } : {}),
    });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ message: 'Not Authorized to perform this action!' });
    expect(forward.get('team')).toBeUndefined();
  });
});

describe('prototype keys as role names', () => {
  it('stores __proto__, constructor and toString as plain roles', async () => {
    for (const role of ['__proto__', 'constructor', 'toString']) {
      const put = await call('PUT', `/v2/quota/${role}`, { body: { limits: { cpus: 1 } } });
      expect(put.status).toBe(200);
      expect(await put.json()).toEqual({ role, guarantees: {}, limits: { cpus: 1 } });
    }
    expect(await (await call('GET', '/v2/weights/hasOwnProperty')).json()).toEqual({
      role: 'hasOwnProperty',
      weight: 1,
    });
    const list = (await (await call('GET', '/v2/quota')).json()) as { quotas: { role: string }[] };
    expect(list.quotas.map((q) => q.role)).toEqual(
      expect.arrayContaining(['__proto__', 'constructor', 'toString']),
    );
    expect(({} as Record<string, unknown>).limits).toBeUndefined();
    expect((await newApplier()).roles.get('__proto__')?.quota?.limits).toEqual({ cpus: 1 });
  });
});

describe("an app's role", () => {
  const app = (fields: Record<string, unknown>) => ({
    cmd: 'app.wasm',
    cpus: 0.1,
    mem: 16,
    instances: 0,
    ...fields,
  });

  it("accepts '*' and the top-level group's name, and shows it", async () => {
    const created = await call('POST', '/v2/apps', { body: app({ id: '/web/api', role: 'web' }) });
    expect(created.status).toBe(201);
    expect(((await created.json()) as { role: string }).role).toBe('web');
    const plain = await call('POST', '/v2/apps', { body: app({ id: '/web/other' }) });
    expect(((await plain.json()) as { role: string }).role).toBe('*');
  });

  it('refuses another role with 422 at /role', async () => {
    const response = await call('POST', '/v2/apps', { body: app({ id: '/web/x', role: 'db' }) });
    expect(response.status).toBe(422);
    expect(await response.json()).toEqual({
      message: 'Object is not valid',
      details: [{ path: '/role', errors: ['got db, expected one of: [*, web]'] }],
    });
  });

  it('refuses acceptedResourceRoles beyond * and the role, and invalid names', async () => {
    const other = await call('POST', '/v2/apps', {
      body: app({ id: '/web/y', role: 'web', acceptedResourceRoles: ['db'] }),
    });
    expect(other.status).toBe(422);
    expect(await other.json()).toEqual({
      message: 'Object is not valid',
      details: [
        {
          path: '/acceptedResourceRoles',
          errors: ['acceptedResourceRoles can only contain * and web'],
        },
      ],
    });
    const bad = await call('POST', '/v2/apps', {
      body: app({ id: '/web/z', acceptedResourceRoles: ['a b'] }),
    });
    expect(bad.status).toBe(422);
    const body = (await bad.json()) as { details: { path: string }[] };
    expect(body.details.map((d) => d.path)).toContain('/acceptedResourceRoles(0)');
  });
});
