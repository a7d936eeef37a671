// PrefixRouter matches as PatternRouter does, over the API's own route table: the same handlers
// in the same order with the same params, for paths built from the routes' own segments.
import fc from 'fast-check';
import { PatternRouter } from 'hono/router/pattern-router';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrefixRouter } from '../src/api/prefix-router.js';
import { createTestApi } from './support/api-doubles.js';
import type { TestApi } from './support/api-doubles.js';

let api: TestApi;
beforeAll(async () => {
  api = await createTestApi();
});
afterAll(async () => {
  await api.close();
});

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** Both routers over the same routes, each route's handler its index in the table. */
function routers(routes: { method: string; path: string }[]) {
  const pattern = new PatternRouter<number>();
  const prefix = new PrefixRouter<number>();
  routes.forEach(({ method, path }, index) => {
    pattern.add(method, path, index);
    prefix.add(method, path, index);
  });
  return { pattern, prefix };
}

describe('PrefixRouter', () => {
  it('matches every path as PatternRouter does, over the API routes', () => {
    const { pattern, prefix } = routers(api.app.routes);
    const literals = [
      ...new Set(api.app.routes.flatMap((r) => r.path.split('/')).filter((s) => /^\w+$/.test(s))),
    ];
    const segment = fc.oneof(fc.constantFrom(...literals, '', '*', 'x', '2026-01-01'), fc.string());
    const path = fc
      .array(segment, { minLength: 0, maxLength: 7 })
      .map((segments) => `/${segments.join('/')}`);
    fc.assert(
      fc.property(fc.constantFrom(...METHODS), path, (method, requested) => {
        expect(prefix.match(method, requested)).toEqual(pattern.match(method, requested));
      }),
      { numRuns: 5000 },
    );
  });

  it('answers a path asked again as it did the first time, and sees routes added since', () => {
    const { pattern, prefix } = routers(api.app.routes);
    const asked = ['/v2/apps/a/b', '/v2/apps/a/b/tasks', '/v2/groups/g', '/nowhere', '/'];
    const first = asked.map((path) => prefix.match('GET', path));
    asked.forEach((path, n) => {
      expect(prefix.match('GET', path)).toEqual(first[n]);
      expect(prefix.match('GET', path)).toEqual(pattern.match('GET', path));
    });
    // A path longer than those remembered is matched all the same.
    const long = `/v2/apps/${'a/'.repeat(300)}b`;
    expect(prefix.match('GET', long)).toEqual(pattern.match('GET', long));
    expect(prefix.match('GET', long)).toEqual(pattern.match('GET', long));
    // A client asking for ever new paths only makes it forget: answers stay the same.
    for (let n = 0; n < 5_000; n++) prefix.match('GET', `/v2/apps/invented-${n}`);
    expect(prefix.match('GET', '/v2/apps/a/b')).toEqual(pattern.match('GET', '/v2/apps/a/b'));
    const added = api.app.routes.length;
    prefix.add('GET', '/nowhere', added);
    expect(prefix.match('GET', '/nowhere')[0].map(([handler]) => handler)).toContain(added);
  });

  it('keeps the order of catch-alls added before and after a bucket opens', () => {
    const table = [
      { method: 'ALL', path: '*' },
      { method: 'GET', path: '/v2/apps/:id{.+}' },
      { method: 'GET', path: '/v2/:kind' },
      { method: 'GET', path: '/v2/apps' },
      { method: 'GET', path: '/ping' },
      { method: 'ALL', path: '/*' },
    ];
    const { pattern, prefix } = routers(table);
    for (const requested of ['/v2/apps', '/v2/apps/a/b', '/v2/groups', '/ping', '/ping/', '/']) {
      expect(prefix.match('GET', requested)).toEqual(pattern.match('GET', requested));
    }
    expect(prefix.match('GET', '/v2/apps')[0].map(([handler]) => handler)).toEqual([0, 2, 3, 5]);
  });
});
