// Fuzzing the API with fast-check: thousands of generated and mutated requests (bad JSON,
// wrong types, huge bodies, deep nesting, odd ids, unknown query values). Every answer must be
// well-formed (a 4xx with a JSON message, or a success that matches the document) and the
// server must keep answering.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi } from './support/api-doubles.js';
import type { TestApi } from './support/api-doubles.js';

let api: TestApi;
beforeAll(async () => {
  api = await createTestApi({ maxBodyBytes: 64 * 1024 });
});
afterAll(async () => {
  await api.close();
});

const validApp = {
  id: '/fuzz/app',
  cmd: 'hello.wasm --x',
  cpus: 0.1,
  mem: 32,
  instances: 1,
  env: { A: 'b' },
  labels: { PACER_WASM_FUEL: '100' },
  constraints: [['hostname', 'UNIQUE']],
  healthChecks: [{ protocol: 'HTTP', path: '/' }],
  upgradeStrategy: { minimumHealthCapacity: 0.5, maximumOverCapacity: 0.5 },
  fetch: [{ uri: 'http://master/v2/artifacts/sha256:00/hello.wasm' }],
};

const oddId = fc.oneof(
  fc.constantFrom(
    'fuzz/app',
    '/fuzz/app',
    '//fuzz//app',
    '..',
    '../..',
    '*',
    'fuzz/*',
    '%2Ffuzz',
    'a b',
    '%ZZ',
    'UPPER',
    '-x-',
  ),
  fc.stringMatching(/^[a-z0-9./_*-]{1,40}$/),
  fc.string({ maxLength: 30 }).map(encodeURIComponent),
  fc.constant('x'.repeat(3000)),
);

const path = fc.oneof(
  oddId.map((id) => `/v2/apps/${id}`),
  oddId.map((id) => `/v2/apps/${id}/tasks`),
  fc.tuple(oddId, oddId).map(([id, task]) => `/v2/apps/${id}/tasks/${task}`),
  oddId.map((id) => `/v2/apps/${id}/restart`),
  fc
    .tuple(oddId, fc.string({ maxLength: 30 }))
    .map(([id, v]) => `/v2/apps/${id}/versions/${encodeURIComponent(v)}`),
  oddId.map((id) => `/v2/groups/${id}`),
  oddId.map((id) => `/v2/queue/${id}/delay`),
  oddId.map((id) => `/v2/deployments/${id}`),
  oddId.map((id) => `/v2/tasks/${id}/logs`),
  fc.constantFrom(
    '/v2/apps',
    '/v2/groups',
    '/v2/tasks',
    '/v2/tasks/delete',
    '/v2/deployments',
    '/v2/queue',
    '/v2/info',
    '/v2/leader',
    '/v2/artifacts',
    '/v2/agents',
    '/v2/pods',
  ),
);

const query = fc
  .array(
    fc.tuple(
      fc.constantFrom(
        'force',
        'partialUpdate',
        'scale',
        'wipe',
        'embed',
        'label',
        'cmd',
        'id',
        'host',
        'status',
        'tail',
        'stream',
        'follow',
        'dryRun',
        'bogus',
      ),
      fc.oneof(
        fc.constantFrom('True', 'false', 'FALSE', '1', '', 'apps.tasks', 'a in (b', 'k==v,x'),
        fc.string({ maxLength: 12 }),
      ),
    ),
    { maxLength: 4 },
  )
  .map((pairs) => (pairs.length === 0 ? '' : `?${new URLSearchParams(pairs).toString()}`));

/** A valid app with one field replaced by an arbitrary JSON value (or removed). */
const mutatedApp = fc
  .tuple(
    fc.constantFrom(
      ...Object.keys(validApp),
      'container',
      'portDefinitions',
      'networks',
      'unreachableStrategy',
      'version',
      'args',
      'readinessChecks',
      'dependencies',
    ),
    fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined }),
  )
  .map(([key, value]) => JSON.stringify({ ...validApp, [key]: value }));

const deepNesting = fc
  .integer({ min: 100, max: 5000 })
  .map((n) => `${'['.repeat(n)}${']'.repeat(n)}`);

const body = fc.oneof(
  { weight: 4, arbitrary: mutatedApp },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
  { weight: 2, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: deepNesting },
  {
    weight: 1,
    arbitrary: fc.constant(JSON.stringify({ ...validApp, cmd: 'x'.repeat(100 * 1024) })),
  },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

const request = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE'),
  path,
  query,
  body,
});

async function send(r: { method: string; path: string; query: string; body: string | undefined }) {
  const hasBody = r.method !== 'GET' && r.body !== undefined;
  return api.app.request(`${r.path}${r.query}`, {
    method: r.method,
    headers: { 'Content-Type': 'application/json' },
    ...(hasBody ? { body: r.body } : {}),
  });
}

const ALLOWED_5XX =
  /^(URI not found|This master runs without leader election and cannot abdicate)$/;

async function expectWellFormed(res: Response, label: string) {
  // Marathon answers an unknown route with 500 "URI not found", and a master without leader
  // election cannot abdicate (503); nothing else may be a 5xx.
  const text = await res.text();
  if (res.status >= 400) {
    expect(res.headers.get('content-type'), label).toMatch(/^application\/json/);
    const parsed = JSON.parse(text) as { message?: unknown };
    expect(typeof parsed.message, label).toBe('string');
    if (res.status >= 500) expect(parsed.message, label).toMatch(ALLOWED_5XX);
  }
  expect(res.status, label).toBeLessThan(600);
}

describe('fuzzed requests', () => {
  it('every answer is well-formed and no request makes the server fail', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const res = await send(r);
        await expectWellFormed(
          res,
          `${r.method} ${r.path}${r.query} ${String(r.body).slice(0, 200)}`,
        );
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 1500) },
    );
    expect(await (await api.app.request('/ping')).text()).toBe('pong');
  }, 240_000);

  it('mutated app bodies on POST/PUT answer 2xx or a 4xx with Marathon details', async () => {
    await fc.assert(
      fc.asyncProperty(mutatedApp, fc.constantFrom('POST', 'PUT'), async (json, method) => {
        const res = await send({
          method,
          path: method === 'POST' ? '/v2/apps' : '/v2/apps/fuzz/app',
          query: '?force=true',
          body: json,
        });
        await expectWellFormed(res, `${method} ${json.slice(0, 200)}`);
        expect(res.status).not.toBe(500);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 1000) },
    );
    expect((await api.app.request('/v2/apps')).status).toBe(200);
  }, 240_000);
});
