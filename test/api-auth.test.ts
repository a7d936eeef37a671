// Authentication and grants end to end: a real master (in process) on real Postgres, over HTTP.
// A principal confined to /team-a works there and sees nothing of /team-b; every documented
// operation but the open ones answers 401 without credentials; revocation holds at once.
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OperationObject } from 'openapi3-ts/oas31';
import { isOpenPath } from '../src/api/auth/index.js';
import { OPEN_OPERATIONS, buildOpenApiDocument } from '../src/api/openapi/document.js';
import { createMemoryBus } from '../src/bus/index.js';
import { silentLogger, systemClock } from '../src/lib/index.js';
import { startMaster } from '../src/cli/start-master.js';
import type { RunningMaster } from '../src/cli/start-master.js';
import { createPostgresStore } from '../src/store/index.js';
import type { Store } from '../src/store/index.js';
import { createTestDatabase, hasService } from './support/services.js';

const hasPostgres = await hasService('postgres');
const BOOTSTRAP = 'an operator chosen bootstrap secret';

const basic = (name: string, secret: string) =>
  `Basic ${Buffer.from(`${name}:${secret}`).toString('base64')}`;
const bearer = (secret: string) => `Bearer ${secret}`;

/** An app small enough for any store, placed nowhere (no agent runs in this test). */
const app = (id: string, instances = 1) => ({
  id,
  cmd: 'hello.wasm',
  cpus: 0.1,
  mem: 16,
  instances,
});

describe.skipIf(!hasPostgres)('API authentication and grants (real master, Postgres)', () => {
  let database: { url: string; drop: () => Promise<void> };
  let store: Store;
  let master: RunningMaster;
  let base: string;

  async function call(
    method: string,
    path: string,
    options: { auth?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) {
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      ...options.headers,
    };
    if (options.auth !== undefined) headers.Authorization = options.auth;
    const response = await fetch(`${base}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    let body: any = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON (text, wasm, html)
    }
    return { status: response.status, headers: response.headers, body, text };
  }
  const admin = bearer(BOOTSTRAP);

  /** Opens `/v2/events` as `auth`; `events` fills as frames arrive, `ended` when the server closes it. */
  async function openStream(auth: string) {
    const controller = new AbortController();
    const response = await fetch(`${base}/v2/events`, {
      headers: { Accept: 'text/event-stream', Authorization: auth },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    const events: Record<string, any>[] = [];
    const state = { ended: false };
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let rest = '';
    const pump = (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          const lines = (rest + decoder.decode(value)).split('\n');
          rest = lines.pop() ?? '';
          for (const line of lines)
            if (line.startsWith('data:'))
              events.push(JSON.parse(line.slice(5)) as Record<string, any>);
        }
      } catch {
        // aborted by the test
      }
      state.ended = true;
    })();
    return { events, state, close: () => controller.abort(), pump };
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    store = await createPostgresStore({ url: database.url });
    master = await startMaster({
      store,
      bus: createMemoryBus(),
      clock: systemClock,
      logger: silentLogger(),
      masterId: 'auth-test',
      port: 0,
      host: '127.0.0.1',
      auth: { bootstrapToken: BOOTSTRAP, insecure: false },
      publicUrl: 'http://127.0.0.1:8080',
      version: '0.0.0',
      agentTimeoutMs: 10_000,
    });
    base = `http://127.0.0.1:${master.port}`;
  });
  afterAll(async () => {
    await master?.stop();
    await store?.close();
    await database?.drop();
  });

  it('answers 401 with the Basic challenge on every documented operation but the open ones', async () => {
    const document = buildOpenApiDocument({ version: '0.0.0' });
    const values: Record<string, string> = {
      id: 'team-b/db',
      taskId: 'team-b_db.instance-00000000-0000-0000-0000-000000000000._app.1',
      digest: `sha256:${'0'.repeat(64)}`,
      name: 'team-a',
      asset: 'swagger-ui.css',
      version: '2026-01-02T03:04:05.678Z',
      deploymentId: 'some-deployment',
    };
    let checked = 0;
    for (const [template, item] of Object.entries(document.paths ?? {})) {
      for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
        const operation = (item as Record<string, OperationObject | undefined>)[method];
        if (!operation) continue;
        const path = template.replace(/\{(\w+)\}/g, (_, key: string) => values[key] ?? 'x');
        const isOpen = OPEN_OPERATIONS.has(`${method} ${template}`);
        // The document and the middleware agree on what is open.
        expect(isOpenPath(method.toUpperCase(), path), `${method} ${path}`).toBe(isOpen);
        const answer = await call(method.toUpperCase(), path, {
          body: method === 'get' || method === 'delete' ? undefined : {},
          headers: { Accept: 'text/event-stream, application/json' },
        });
        if (isOpen) {
          expect(answer.status, `${method} ${path}`).not.toBe(401);
          continue;
        }
        expect(answer.status, `${method} ${path}`).toBe(401);
        expect(answer.headers.get('www-authenticate')).toBe('Basic realm="pacer"');
        expect(answer.body).toEqual({ message: 'Invalid username or password.' });
        expect(operation.responses?.['401']).toBeDefined();
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(40);
    // Routes the document does not list, and tricks on the open paths, are closed too.
    for (const path of [
      '/v2/nothing',
      '/ping/../v2/apps',
      '//v2//apps',
      '/v2/artifacts/sha256:x',
    ]) {
      expect((await call('GET', path)).status, path).toBe(401);
    }
    expect((await call('GET', '/ping')).status).toBe(200);
  });

  it('accepts Basic, Bearer and token= credentials and refuses wrong ones', async () => {
    for (const auth of [admin, basic('bootstrap', BOOTSTRAP), `token=${BOOTSTRAP}`]) {
      expect((await call('GET', '/v2/apps', { auth })).status, auth).toBe(200);
    }
    const created = await call('POST', '/v2/acl/tokens', {
      auth: admin,
      body: { name: 'reader', grants: [{ path: '/', actions: ['view'] }] },
    });
    expect(created.status).toBe(201);
    const secret = created.body.secret as string;
    for (const auth of [bearer(secret), basic('reader', secret), `token=${secret}`]) {
      expect((await call('GET', '/v2/apps', { auth })).status, auth).toBe(200);
    }
    for (const auth of [
      bearer(`${BOOTSTRAP}x`),
      // The last character changed (a random secret ends in 'A' once in 64).
      bearer(`${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`),
      basic('bootstrap', secret), // a real secret under another name
      basic('reader', BOOTSTRAP),
      basic('nobody', BOOTSTRAP),
      `token=`,
      'Bearer',
      `Digest ${secret}`,
      `Bearer ${'x'.repeat(10_000)}`,
    ]) {
      const answer = await call('GET', '/v2/apps', { auth });
      expect(answer.status, auth.slice(0, 60)).toBe(401);
      expect(answer.body).toEqual({ message: 'Invalid username or password.' });
    }
  });

  it('reads the Authorization header in any case, and only the first of two', async () => {
    /** GET /v2/apps with these raw header lines, as a client may send them. */
    const statusWith = (headers: [string, string][]) =>
      new Promise<number>((resolve, reject) => {
        const url = new URL(`${base}/v2/apps`);
        const request = httpRequest(
          {
            host: url.hostname,
            port: url.port,
            path: url.pathname,
            headers: [['Host', url.host], ...headers].flat(),
          },
          (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          },
        );
        request.on('error', reject);
        request.end();
      });
    expect(await statusWith([['AUTHORIZATION', admin]])).toBe(200);
    expect(await statusWith([['AuThOrIzAtIoN', admin]])).toBe(200);
    expect(
      await statusWith([
        ['Authorization', admin],
        ['Authorization', 'Bearer wrong'],
      ]),
    ).toBe(200);
    expect(
      await statusWith([
        ['Authorization', 'Bearer wrong'],
        ['Authorization', admin],
      ]),
    ).toBe(401);
    // A header named like it but longer or shorter is not it.
    expect(await statusWith([['Authorizations', admin]])).toBe(401);
    expect(await statusWith([['X-Authorization', admin]])).toBe(401);
  });

  it('creates tokens (admin only), never shows a secret again, refuses duplicates and bad grants', async () => {
    const created = await call('POST', '/v2/acl/tokens', {
      auth: admin,
      body: { name: 'lister', grants: [{ path: '/lister', actions: ['view', 'create'] }] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      name: 'lister',
      secret: expect.stringMatching(/^pacer_lister_[\w-]{43}$/),
      grants: [{ path: '/lister', actions: ['view', 'create'] }],
    });
    const listed = await call('GET', '/v2/acl/tokens', { auth: admin });
    expect(listed.status).toBe(200);
    expect(listed.body.tokens.map((t: { name: string }) => t.name)).toEqual(
      expect.arrayContaining(['bootstrap', 'lister']),
    );
    expect(listed.text).not.toContain(created.body.secret);
    expect(listed.text).not.toContain(BOOTSTRAP);
    expect(listed.text).not.toContain('scrypt');
    const again = await call('POST', '/v2/acl/tokens', {
      auth: admin,
      body: { name: 'lister', grants: [] },
    });
    expect(again.status).toBe(409);
    for (const [body, path] of [
      [{ name: 'bad', grants: [{ path: 'relative', actions: ['view'] }] }, '/grants(0)/path'],
      [{ name: 'bad', grants: [{ path: '/a/../b', actions: ['view'] }] }, '/grants(0)/path'],
      [{ name: 'bad', grants: [{ path: '/a', actions: [] }] }, '/grants(0)/actions'],
      [{ name: 'bad', grants: [{ path: '/a', actions: ['view', 'view'] }] }, '/grants(0)/actions'],
      [{ name: '../bad', grants: [] }, '/name'],
      [{ name: 'x'.repeat(64), grants: [] }, '/name'],
      [{ name: 'bad', grants: Array(101).fill({ path: '/a', actions: ['view'] }) }, '/grants'],
    ] as const) {
      const refused = await call('POST', '/v2/acl/tokens', { auth: admin, body });
      expect(refused.status, JSON.stringify(body).slice(0, 80)).toBe(422);
      expect(refused.body.message).toBe('Object is not valid');
      expect(refused.body.details.map((d: { path: string }) => d.path)).toContain(path);
    }
    const unknownAction = await call('POST', '/v2/acl/tokens', {
      auth: admin,
      body: { name: 'bad', grants: [{ path: '/a', actions: ['root'] }] },
    });
    expect([400, 422]).toContain(unknownAction.status);
    // A non-admin may do none of it, not even under its own path.
    const lister = bearer(created.body.secret as string);
    expect((await call('GET', '/v2/acl/tokens', { auth: lister })).status).toBe(403);
    const escalate = await call('POST', '/v2/acl/tokens', {
      auth: lister,
      body: { name: 'mine', grants: [{ path: '/', actions: ['admin'] }] },
    });
    expect(escalate.status).toBe(403);
    expect(escalate.body).toEqual({ message: 'Not Authorized to perform this action!' });
    expect((await call('DELETE', '/v2/acl/tokens/bootstrap', { auth: lister })).status).toBe(403);
    expect((await call('DELETE', '/v2/acl/tokens/nobody', { auth: admin })).status).toBe(404);
  });

  describe('a principal confined to /team-a', () => {
    let teamA: string;

    beforeAll(async () => {
      const created = await call('POST', '/v2/acl/tokens', {
        auth: admin,
        body: {
          name: 'team-a',
          grants: [{ path: '/team-a', actions: ['view', 'create', 'update', 'delete'] }],
        },
      });
      expect(created.status).toBe(201);
      teamA = bearer(created.body.secret as string);
      expect(
        (await call('POST', '/v2/apps', { auth: admin, body: app('/team-b/db') })).status,
      ).toBe(201);
    });

    it('creates, scales, restarts, reads and deletes its apps', async () => {
      const created = await call('POST', '/v2/apps', { auth: teamA, body: app('/team-a/web') });
      expect(created.status).toBe(201);
      const scaled = await call('PUT', '/v2/apps/team-a/web?force=true', {
        auth: teamA,
        body: { instances: 2 },
      });
      expect(scaled.status).toBe(200);
      const read = await call('GET', '/v2/apps/team-a/web', { auth: teamA });
      expect(read.body.app.instances).toBe(2);
      expect((await call('GET', '/v2/apps/team-a/web/versions', { auth: teamA })).status).toBe(200);
      expect(
        (await call('POST', '/v2/apps/team-a/web/restart?force=true', { auth: teamA })).status,
      ).toBe(200);
      expect((await call('GET', '/v2/groups/team-a', { auth: teamA })).status).toBe(200);
      const removed = await call('DELETE', '/v2/apps/team-a/web?force=true', { auth: teamA });
      expect(removed.status).toBe(200);
    });

    it('gets 403 for everything under /team-b and for admin operations', async () => {
      const forbidden: [string, string, unknown?][] = [
        ['GET', '/v2/apps/team-b/db'],
        ['GET', '/v2/apps/team-b/does-not-exist'],
        ['GET', '/v2/apps/team-b/db/versions'],
        ['GET', '/v2/apps/team-b/db/tasks'],
        ['POST', '/v2/apps', app('/team-b/new')],
        ['POST', '/v2/apps', app('/team-a-not/new')],
        ['PUT', '/v2/apps/team-b/db', { instances: 5 }],
        ['PATCH', '/v2/apps/team-b/db', { instances: 5 }],
        [
          'PUT',
          '/v2/apps',
          [
            { id: '/team-a/ok', instances: 1, cmd: 'x.wasm' },
            { id: '/team-b/db', instances: 9 },
          ],
        ],
        ['POST', '/v2/apps/team-b/db/restart'],
        ['DELETE', '/v2/apps/team-b/db'],
        ['DELETE', '/v2/apps/team-b/db/tasks?scale=true'],
        ['GET', '/v2/groups/team-b'],
        ['POST', '/v2/groups', { id: '/team-b/g', apps: [app('/team-b/g/x')] }],
        // A change of its own group that smuggles in an app elsewhere.
        [
          'PUT',
          '/v2/groups/team-a',
          { id: '/team-a', groups: [{ id: '/team-b', apps: [app('/team-b/z')] }] },
        ],
        ['PUT', '/v2/groups', { scaleBy: 2 }],
        ['DELETE', '/v2/groups/team-b'],
        ['DELETE', '/v2/groups'],
        ['GET', '/v2/groups/versions'],
        ['DELETE', '/v2/queue/team-b/db/delay'],
        ['DELETE', '/v2/queue/team-a/web/delay'],
        ['GET', '/v2/agents'],
        ['POST', '/v2/agents/some-agent/drain'],
        ['POST', '/v2/agents/some-agent/undrain'],
        ['GET', '/v2/artifacts'],
        ['GET', '/metrics'],
        ['DELETE', '/v2/leader'],
      ];
      // Read by the admin first, twice: the edge's lane for repeated reads (hot-reads.ts) then
      // holds the answer, and must still refuse a caller who may not view the app.
      for (let n = 0; n < 2; n++)
        expect((await call('GET', '/v2/apps/team-b/db', { auth: admin })).status).toBe(200);
      for (const [method, path, body] of forbidden) {
        const answer = await call(method, path, { auth: teamA, body });
        expect(answer.status, `${method} ${path}`).toBe(403);
        expect(answer.body).toEqual({ message: 'Not Authorized to perform this action!' });
      }
      // Nothing happened to /team-b.
      const db = await call('GET', '/v2/apps/team-b/db', { auth: admin });
      expect(db.body.app.instances).toBe(1);
      expect((await call('GET', '/v2/apps/team-a/ok', { auth: admin })).status).toBe(404);
    });

    it('sees nothing of /team-b in lists', async () => {
      expect(
        (await call('POST', '/v2/apps', { auth: teamA, body: app('/team-a/api') })).status,
      ).toBe(201);
      const apps = await call('GET', '/v2/apps', { auth: teamA });
      expect(apps.body.apps.map((a: { id: string }) => a.id)).toEqual(['/team-a/api']);
      const all = await call('GET', '/v2/apps', { auth: admin });
      expect(all.body.apps.map((a: { id: string }) => a.id)).toEqual(['/team-a/api', '/team-b/db']);
      const star = await call('GET', '/v2/apps/*', { auth: teamA });
      expect(star.body['*'].map((a: { id: string }) => a.id)).toEqual(['/team-a/api']);
      const groups = await call('GET', '/v2/groups', { auth: teamA });
      expect(JSON.stringify(groups.body)).not.toContain('team-b');
      expect(JSON.stringify(groups.body)).toContain('/team-a/api');
      for (const path of [
        '/v2/tasks',
        '/v2/apps/*/tasks',
        '/v2/deployments',
        '/v2/queue',
        '/v2/groups/team-a/apps',
      ]) {
        const answer = await call('GET', path, { auth: teamA });
        expect([200, 404], path).toContain(answer.status);
        expect(answer.text, path).not.toContain('team-b');
      }
      // The admin's answer to the same list does show /team-b (the filter, not an empty store).
      expect((await call('GET', '/v2/queue', { auth: admin })).text).toContain('team-b');
    });

    it('sees only its own apps on the event stream', async () => {
      const mine = await openStream(teamA);
      const everything = await openStream(admin);
      try {
        expect(
          (await call('POST', '/v2/apps', { auth: admin, body: app('/team-b/secret') })).status,
        ).toBe(201);
        expect(
          (await call('POST', '/v2/apps', { auth: teamA, body: app('/team-a/events') })).status,
        ).toBe(201);
        const posted = (e: Record<string, any>) =>
          e.eventType === 'api_post_event' && e.appDefinition.id;
        await expect.poll(() => mine.events.some((e) => posted(e) === '/team-a/events')).toBe(true);
        await expect
          .poll(() => everything.events.some((e) => posted(e) === '/team-a/events'))
          .toBe(true);
        // Events fan out in emit order: the /team-b event came first and was held back.
        expect(everything.events.some((e) => posted(e) === '/team-b/secret')).toBe(true);
        expect(JSON.stringify(mine.events)).not.toContain('team-b');
        expect(mine.events.length).toBeGreaterThan(0);
      } finally {
        mine.close();
        everything.close();
      }
    });

    it('is refused at once after its token is revoked, and its open stream is closed', async () => {
      const created = await call('POST', '/v2/acl/tokens', {
        auth: admin,
        body: { name: 'short-lived', grants: [{ path: '/team-a', actions: ['view'] }] },
      });
      const auth = bearer(created.body.secret as string);
      expect((await call('GET', '/v2/apps', { auth })).status).toBe(200); // now cached
      const stream = await openStream(auth);
      const other = await openStream(teamA);
      try {
        const revoked = await call('DELETE', '/v2/acl/tokens/short-lived', { auth: admin });
        expect(revoked.status).toBe(200);
        expect(revoked.body).toEqual({ name: 'short-lived' });
        const after = await call('GET', '/v2/apps', { auth });
        expect(after.status).toBe(401);
        expect(
          (await call('GET', '/v2/apps', { auth: basic('short-lived', created.body.secret) }))
            .status,
        ).toBe(401);
        await expect.poll(() => stream.state.ended).toBe(true);
        expect(other.state.ended).toBe(false);
      } finally {
        stream.close();
        other.close();
      }
    });
  });
});
