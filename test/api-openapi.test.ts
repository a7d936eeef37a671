// The OpenAPI document: current, valid for an independent parser, served, browsable, and
// strict enough that the contract check catches a field Marathon never sends.
import { readFile } from 'node:fs/promises';
import { compileErrors, validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../src/api/index.js';
import { buildOpenApiDocument } from '../src/api/openapi/document.js';
import { renderOpenApiDocument } from '../src/api/openapi/render.js';
import { contractProblems } from './support/api-contract.js';
import { createTestApi } from './support/api-doubles.js';
import type { TestApi } from './support/api-doubles.js';

const root = new URL('../', import.meta.url);
const { version } = JSON.parse(await readFile(new URL('package.json', root), 'utf8')) as {
  version: string;
};

let api: TestApi;
beforeAll(async () => {
  api = await createTestApi();
});
afterAll(async () => {
  await api.close();
});

describe('openapi/openapi.json', () => {
  it('is current (run `npm run openapi` when this fails)', async () => {
    const checkedIn = await readFile(new URL('openapi/openapi.json', root), 'utf8');
    expect(checkedIn).toBe(renderOpenApiDocument({ version }));
  });

  it('is a valid OpenAPI 3.1 document for an independent parser', async () => {
    const document = structuredClone(buildOpenApiDocument({ version })) as never;
    const result = await validate(document);
    expect(result.valid ? '' : compileErrors(result)).toBe('');
    expect(result.warnings).toEqual([]);
  });
});

describe('routes and the document', () => {
  /** `GET /v2/apps/{id}` of a Hono route path (`:id{.+}` → `{id}`, `:star{\\*}` → `*`). */
  const documented = (method: string, honoPath: string) =>
    `${method} ${honoPath.replace(/:star\{\\\*\}/g, '*').replace(/:(\w+)(\{[^/]*\})?/g, '{$1}')}`;

  it('registers exactly the documented operations', () => {
    // Every optional router on (agent identity, leadership), so every route is registered.
    const app = createApi({
      ...api.deps,
      agentIdentity: {
        createJoinToken: () => Promise.reject(new Error('unused')),
        join: () => Promise.reject(new Error('unused')),
        revoke: () => Promise.resolve(false),
      },
    });
    const registered = new Set(
      app.routes
        .filter((r) => r.method !== 'ALL' && r.path !== '*' && r.path !== '/*')
        .map((r) => documented(r.method, r.path)),
    );
    const document = buildOpenApiDocument({ version });
    const operations = new Set(
      Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
        Object.keys(item as object)
          .filter((key) => ['get', 'post', 'put', 'patch', 'delete'].includes(key))
          .map((method) => `${method.toUpperCase()} ${path}`),
      ),
    );
    expect([...registered].sort()).toEqual([...operations].sort());
    expect(registered.size).toBeGreaterThan(60);
  });

  it('names every path parameter of a path in its operation', () => {
    const document = buildOpenApiDocument({ version });
    for (const [path, item] of Object.entries(document.paths ?? {})) {
      const named = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const operation of Object.values(item as Record<string, { parameters?: any[] }>)) {
        const declared = (operation.parameters ?? [])
          .filter((p: { in: string }) => p.in === 'path')
          .map((p: { name: string }) => p.name);
        expect(declared, path).toEqual(named);
      }
    }
  });
});

describe('/openapi.json and /docs', () => {
  it('serves the document', async () => {
    const res = await api.app.request('/openapi.json');
    expect(res.status).toBe(200);
    const served = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(served.openapi).toBe('3.1.0');
    expect(Object.keys(served.paths)).toContain('/v2/apps/{id}');
  });

  it('serves a docs page whose scripts and styles come from this server', async () => {
    const page = await (await api.app.request('/docs')).text();
    const assets = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets).toEqual(['/docs/swagger-ui.css', '/docs/swagger-ui-bundle.js']);
    for (const asset of assets) {
      const res = await api.app.request(asset);
      expect(res.status).toBe(200);
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    }
  });
});

describe('the contract check', () => {
  it('reports a field Marathon never sends and passes the same body without it', async () => {
    const task = {
      appId: '/a',
      id: 'a.instance-1._app.1',
      host: 'h',
      state: 'TASK_RUNNING',
      role: '*',
      healthCheckResults: [],
      ipAddresses: [],
      ports: [],
      servicePorts: [],
      localVolumes: [],
    };
    const check = (body: unknown) =>
      contractProblems({
        method: 'GET',
        url: '/v2/tasks',
        response: new Response(JSON.stringify(body), {
          headers: { 'Content-Type': 'application/json' },
        }),
      });
    expect(await check({ tasks: [task] })).toEqual([]);
    expect(await check({ tasks: [{ ...task, agentId: 'x' }] })).toHaveLength(1);
  });
});
