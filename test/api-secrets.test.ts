// /v2/secrets: write-only values sealed at rest, names and versions listed only to those who may
// view them, and rights checked on the secret's path.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Action } from '../src/domain/index.js';
import { SECRET_PATH } from '../src/api/v2/wire/secret-schemas.js';
import { createSecretBox } from '../src/master/secret-box.js';
import { createTestApi } from './support/api-doubles.js';
import type { TestApi } from './support/api-doubles.js';
import { as, principalsByName } from './support/test-principals.js';

const box = createSecretBox(randomBytes(32));
const PLAINTEXT = 'correct horse battery staple';
let api: TestApi;
beforeAll(async () => {
  api = await createTestApi({
    secretBox: box,
    auth: principalsByName([
      { name: 'admin', grants: [{ path: '/', actions: [Action.ADMIN] }] },
      {
        name: 'team-a',
        grants: [{ path: '/team-a', actions: [Action.VIEW, Action.CREATE, Action.UPDATE] }],
      },
    ]),
  });
});
afterAll(async () => {
  await api.close();
});

function put(path: string, body: unknown, who = 'admin') {
  return api.app.request(`/v2/secrets/${path}`, {
    method: 'PUT',
    headers: as(who, { 'Content-Type': 'application/json' }),
    body: JSON.stringify(body),
  });
}

describe('/v2/secrets', () => {
  it('creates (201, version 1), replaces (200, version 2), and never answers the value', async () => {
    const created = await put('team-a/db-password', { value: PLAINTEXT });
    expect(created.status).toBe(201);
    expect(await created.json()).toEqual({ path: 'team-a/db-password', version: 1 });
    const replaced = await put('team-a/db-password', { value: `${PLAINTEXT}!` });
    expect(replaced.status).toBe(200);
    expect(await replaced.json()).toEqual({ path: 'team-a/db-password', version: 2 });
    const list = await api.app.request('/v2/secrets', { headers: as('admin') });
    const text = await list.text();
    expect(text).not.toContain(PLAINTEXT);
    expect(JSON.parse(text)).toEqual({
      secrets: [{ path: 'team-a/db-password', version: 2, updatedAt: expect.any(String) }],
    });
    // No route reads a value back.
    const read = await api.app.request('/v2/secrets/team-a/db-password', { headers: as('admin') });
    expect([404, 405, 500]).toContain(read.status);
    expect(await read.text()).not.toContain(PLAINTEXT);
  });

  it('stores only the sealed value, bound to its path', async () => {
    await put('team-a/api-key', { value: PLAINTEXT });
    const row = await api.store.secrets.get('team-a/api-key');
    expect(row).toBeDefined();
    if (!row) return;
    expect(Buffer.from(row.sealed).includes(Buffer.from(PLAINTEXT))).toBe(false);
    expect(box.open('team-a/api-key', row.sealed)).toBe(PLAINTEXT);
    expect(() => box.open('team-b/api-key', row.sealed)).toThrow();
  });

  it('checks rights on the path: 403 elsewhere, and lists only what the caller may view', async () => {
    expect((await put('team-b/token', { value: 'b-secret' })).status).toBe(201);
    const forbidden = await put('team-b/token', { value: 'overwritten' }, 'team-a');
    expect(forbidden.status).toBe(403);
    expect((await put('team-b/new', { value: 'x' }, 'team-a')).status).toBe(403);
    // A prefix that merely starts alike is another path.
    expect((await put('team-ab/x', { value: 'x' }, 'team-a')).status).toBe(403);
    expect((await put('team-a/mine', { value: 'x' }, 'team-a')).status).toBe(201);
    const list = (await (
      await api.app.request('/v2/secrets', { headers: as('team-a') })
    ).json()) as { secrets: { path: string }[] };
    expect(list.secrets.map((s) => s.path).every((p) => p.startsWith('team-a/'))).toBe(true);
    const deleting = await api.app.request('/v2/secrets/team-b/token', {
      method: 'DELETE',
      headers: as('team-a'),
    });
    expect(deleting.status).toBe(403);
    expect(await api.store.secrets.get('team-b/token')).toBeDefined();
    const noDeleteRight = await api.app.request('/v2/secrets/team-a/mine', {
      method: 'DELETE',
      headers: as('team-a'),
    });
    expect(noDeleteRight.status).toBe(403);
    const deleted = await api.app.request('/v2/secrets/team-a/mine', {
      method: 'DELETE',
      headers: as('admin'),
    });
    expect(deleted.status).toBe(204);
    expect(await api.store.secrets.get('team-a/mine')).toBeUndefined();
  });

  it.each(['a b', 'team-a/x%00', 'team-a/%C3%A9', 'x'.repeat(257)])(
    'answers 422 for the path %j',
    async (path) => {
      const res = await put(path, { value: 'v' });
      expect(res.status).toBe(422);
    },
  );

  it('accepts no dot segment, empty segment or overlong path (URL parsers resolve some first)', () => {
    for (const bad of ['..', '.', 'team-a/../team-b', 'team-a/./x', 'a//b', '/a', 'a/', '']) {
      expect(SECRET_PATH.test(bad)).toBe(false);
    }
    expect(SECRET_PATH.test(`a/${'x'.repeat(255)}`)).toBe(false);
    expect(SECRET_PATH.test(`a/${'x'.repeat(254)}`)).toBe(true);
    expect(SECRET_PATH.test('team-a/db.password_v2')).toBe(true);
    expect(SECRET_PATH.test('team-a/..hidden')).toBe(true);
  });

  it('answers 422 for a value over 64 KiB and 400 for a body of the wrong shape', async () => {
    expect((await put('team-a/big', { value: 'x'.repeat(64 * 1024 + 1) })).status).toBe(422);
    expect((await put('team-a/shape', { value: 5 })).status).toBe(400);
    expect((await put('team-a/shape', { value: 'v', extra: 1 })).status).toBe(422);
  });

  describe('apps that refer to secrets', () => {
    const app = (id: string, source: string, secretName = 'db') => ({
      id,
      cmd: 'app.wasm',
      env: { DB_PASSWORD: { secret: secretName } },
      secrets: { db: { source } },
    });
    const send = (method: string, route: string, body: unknown, who = 'team-a') =>
      api.app.request(route, {
        method,
        headers: as(who, { 'Content-Type': 'application/json' }),
        body: JSON.stringify(body),
      });

    it('are created by a principal who may view the secret, and show the reference only', async () => {
      await put('team-a/app-db', { value: PLAINTEXT });
      const res = await send('POST', '/v2/apps', app('/team-a/uses-db', 'team-a/app-db'));
      expect(res.status).toBe(201);
      const text = await res.text();
      expect(text).not.toContain(PLAINTEXT);
      expect(JSON.parse(text)).toMatchObject({
        env: { DB_PASSWORD: { secret: 'db' } },
        secrets: { db: { source: 'team-a/app-db' } },
      });
    });

    it('answer 403 for a secret the caller may not view, whether it exists or not, by every route', async () => {
      await put('team-b/owned', { value: 'b-only' });
      for (const source of ['team-b/owned', 'team-b/missing']) {
        expect((await send('POST', '/v2/apps', app('/team-a/steal', source))).status).toBe(403);
        expect(
          (await send('PUT', '/v2/apps/team-a/steal', app('/team-a/steal', source))).status,
        ).toBe(403);
        expect((await send('PUT', '/v2/apps', [app('/team-a/steal', source)])).status).toBe(403);
        const group = { id: '/team-a', apps: [app('/team-a/steal', source)] };
        expect((await send('PUT', '/v2/groups/team-a', group)).status).toBe(403);
      }
      expect(await api.store.apps.get('/team-a/steal')).toBeUndefined();
    });

    it('answer 422 for an undefined reference, a missing secret or a path that climbs', async () => {
      const undefinedRef = await send(
        'POST',
        '/v2/apps',
        app('/team-a/x', 'team-a/app-db', 'nope'),
      );
      expect(undefinedRef.status).toBe(422);
      expect(await undefinedRef.json()).toMatchObject({
        details: [
          { path: '/env/DB_PASSWORD', errors: ["references an undefined secret named 'nope'"] },
        ],
      });
      const missing = await send('POST', '/v2/apps', app('/team-a/x', 'team-a/never-written'));
      expect(missing.status).toBe(422);
      expect(await missing.json()).toMatchObject({
        details: [
          { path: '/secrets/db/source', errors: ["secret 'team-a/never-written' does not exist"] },
        ],
      });
      for (const source of ['team-a/../team-b/owned', '/team-b/owned', '', 'team-a//x']) {
        expect((await send('POST', '/v2/apps', app('/team-a/x', source))).status).toBe(422);
      }
    });
  });

  it('refuses apps with secrets on a master without a key (422, as Marathon without the feature)', async () => {
    const keyless = await createTestApi();
    try {
      const res = await keyless.json('POST', '/v2/apps', {
        id: '/x',
        cmd: 'app.wasm',
        env: { A: { secret: 's' } },
        secrets: { s: { source: 'x/y' } },
      });
      expect(res.status).toBe(422);
      expect(JSON.stringify(await res.json())).toContain('Feature secrets is not enabled');
    } finally {
      await keyless.close();
    }
  }, 120_000);

  it('refuses secrets on a master without a key (503)', async () => {
    const keyless = await createTestApi();
    try {
      const res = await keyless.json('PUT', '/v2/secrets/team-a/x', { value: 'v' });
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({
        message: 'This master has no secrets key: set PACER_SECRETS_KEY_FILE to use secrets',
      });
      expect(await keyless.store.secrets.list()).toEqual([]);
    } finally {
      await keyless.close();
    }
  }, 120_000);
});
