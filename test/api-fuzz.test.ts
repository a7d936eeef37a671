// Fuzzing the API with fast-check: thousands of generated and mutated requests (bad JSON,
// wrong types, huge bodies, deep nesting, odd ids, unknown query values), and a walk over every
// operation of the generated OpenAPI document with hostile path parameters, query values and
// bodies. Every answer must be well-formed (a 4xx with a JSON message, or a success that matches
// the document) and the server must keep answering.
import fc from 'fast-check';
import type { OperationObject, ParameterObject } from 'openapi3-ts/oas31';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../src/api/openapi/document.js';
import { UnauthenticatedError } from '../src/domain/index.js';
import { createTestApi } from './support/api-doubles.js';
import type { TestApi } from './support/api-doubles.js';

let api: TestApi;
beforeAll(async () => {
  // Every router on: the agent join routes exist only with an agent identity.
  api = await createTestApi({
    maxBodyBytes: 64 * 1024,
    agentIdentity: {
      createJoinToken: async () => ({ token: `pjt_${'a'.repeat(43)}`, expiresAt: 0 }),
      join: async () => {
        throw new UnauthenticatedError('Unknown, used or expired join token');
      },
      revoke: async () => false,
    },
  });
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

/** Every operation of the document: method, path template, its path and query parameter names. */
const OPERATIONS = Object.entries(buildOpenApiDocument({ version: '0.0.0' }).paths ?? {}).flatMap(
  ([path, item]) =>
    (['get', 'post', 'put', 'patch', 'delete'] as const).flatMap((method) => {
      const operation = (item as Record<string, OperationObject | undefined>)[method];
      if (!operation) return [];
      const parameters = (operation.parameters ?? []) as ParameterObject[];
      return [
        {
          method: method.toUpperCase(),
          path,
          query: parameters.filter((p) => p.in === 'query').map((p) => p.name),
          hasBody: operation.requestBody !== undefined,
        },
      ];
    }),
);

/**
 * Path parameter values as an attacker sends them (already percent-encoded). No `.`/`..`
 * segments: a URL resolves them before sending (`/v2/apps/../restart` is `/restart`).
 */
const HOSTILE_SEGMENTS = [
  '%00',
  '%E2%80%AE%00x',
  'a%00b',
  '%00%2F..',
  '%0A',
  '%1B%5B2J',
  '%7F',
  '%ED%A0%80',
  '%FF',
  '%C0%AE%C0%AE',
  '%25',
  '%',
  'a%2F..%2F..',
  '%2F',
  '%2F%2F',
  '*',
  '%2A',
  'UPPER',
  'sha256:zz',
  'x'.repeat(3000),
  '%F0%9F%92%A9',
  // Names of Object.prototype's members: a lookup in a plain object finds them (the class of
  // GET /docs/toString answering 500, found by this walk).
  'toString',
  '__proto__',
  'constructor',
];

/** Any string, percent-encoded byte by byte (lone surrogates included, which encodeURI refuses). */
const anyEncoded = fc
  .string({ unit: 'binary', maxLength: 20 })
  .map((text) =>
    [...text]
      .map((ch) =>
        /[A-Za-z0-9_.~-]/.test(ch)
          ? ch
          : [...Buffer.from(ch, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''),
      )
      .join(''),
  );

const segment = fc.oneof(
  fc.constantFrom(...HOSTILE_SEGMENTS),
  // Not empty (`/v2/tasks//logs` is `/v2/tasks/logs`, another route), not a dot segment.
  anyEncoded.filter((text) => text !== '' && !/^(\.|%2e){1,2}$/i.test(text)),
);

const hostileValue = fc.oneof(
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    '\u202e\u0000x',
    'True',
    '-1',
    '1e309',
    '',
    '*',
    'x'.repeat(2000),
  ),
  fc.string({ unit: 'binary', maxLength: 16 }),
);

/** Bodies with control characters and NUL bytes where ids and strings go, plus plain junk. */
const hostileBody = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(...Object.keys(validApp), 'id'),
      fc.constantFrom('\u0000', 'a\u0000b', '\u202e\u0000x', '\ud800'),
    )
    .map(([key, value]) => JSON.stringify({ ...validApp, [key]: value })),
  fc.constant(
    JSON.stringify({ ...validApp, env: { 'A\u0000': 'b\u0000' }, labels: { '\u0000': '\u0000' } }),
  ),
  fc.constant(
    JSON.stringify({ id: '/fuzz/\u0000', apps: [{ ...validApp, id: '/fuzz/\u0000/a' }] }),
  ),
  fc.constant(JSON.stringify({ ids: ['\u0000', 'a.instance-\u0000._app.1'] })),
  fc.constant(JSON.stringify({ name: '\u0000', grants: [{ path: '/\u0000', actions: ['view'] }] })),
  fc.constant(JSON.stringify({ value: '\u0000', hostname: 'h\u0000', token: 'pjt_\u0000' })),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.string({ unit: 'binary', maxLength: 100 }),
);

/** The request path of `template` with each `{name}` replaced by the next of `segments`. */
function fill(template: string, segments: string[]): string {
  let index = 0;
  return template.replace(/\{[^}]+\}/g, () => segments[index++ % segments.length] ?? 'x');
}

async function sendRaw(r: { method: string; url: string; body?: string }) {
  return api.app.request(r.url, {
    method: r.method,
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    ...(r.body !== undefined && r.method !== 'GET' ? { body: r.body } : {}),
  });
}

/** As `expectWellFormed`, and a documented route never answers "URI not found" (a 500). */
async function expectAnswered(res: Response, label: string) {
  const copy = res.clone();
  await expectWellFormed(res, label);
  if (copy.status >= 500) {
    const { message } = (await copy.json()) as { message: string };
    expect(message, label).toBe('This master runs without leader election and cannot abdicate');
  }
}

describe('every documented operation', () => {
  it('walks the document: at least one operation per tag, and every one with a path id', () => {
    expect(OPERATIONS.length).toBeGreaterThan(60);
    expect(OPERATIONS.filter((o) => o.path.includes('{')).length).toBeGreaterThan(25);
  });

  it('answers each hostile path parameter of every operation without a 5xx', async () => {
    for (const operation of OPERATIONS.filter((o) => o.path.includes('{'))) {
      for (const value of HOSTILE_SEGMENTS) {
        const url = fill(operation.path, [value]);
        const res = await sendRaw({
          method: operation.method,
          url,
          body: JSON.stringify(validApp),
        });
        await expectAnswered(res, `${operation.method} ${url}`);
      }
    }
  }, 240_000);

  it('answers generated path parameters, query values and bodies without a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: OPERATIONS.length - 1 }),
        fc.array(segment, { minLength: 1, maxLength: 3 }),
        fc.array(fc.tuple(fc.nat(), hostileValue), { maxLength: 3 }),
        hostileBody,
        async (index, segments, pairs, body) => {
          const operation = OPERATIONS[index]!;
          const names = [...operation.query, 'bogus'];
          const query = new URLSearchParams(
            pairs.map(([n, value]): [string, string] => [names[n % names.length]!, value]),
          ).toString();
          const url = `${fill(operation.path, segments)}${query ? `?${query}` : ''}`;
          const res = await sendRaw({
            method: operation.method,
            url,
            ...(operation.hasBody ? { body } : {}),
          });
          await expectAnswered(res, `${operation.method} ${url} ${body.slice(0, 200)}`);
        },
      ),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 2000) },
    );
    expect(await (await api.app.request('/ping')).text()).toBe('pong');
  }, 240_000);
});
