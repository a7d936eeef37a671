// The lane past Hono for repeated GET /v2/apps/{id}: it answers only a path the route
// remembered, only without a query, and only with a body rendered in the current snapshot.
import { describe, expect, it } from 'vitest';
import { Action } from '../domain/index.js';
import { createHotReads } from './hot-reads.js';
import type { Snapshot } from './read-model.js';

/** A read model whose current snapshot the test swaps, holding the rendered bodies given. */
function readsOf(rendered: Record<string, unknown>) {
  let snapshot: Pick<Snapshot, 'rendered'> | undefined = { rendered: (key) => rendered[key] };
  return {
    current: () => snapshot as Snapshot | undefined,
    replace(next: Record<string, unknown> | undefined) {
      snapshot = next && { rendered: (key) => next[key] };
    },
  };
}

const request = (path: string, method = 'GET') =>
  new Request(`http://master.test${path}`, { method });

describe('hot reads', () => {
  it("answers a remembered path with the current snapshot's body, as the route does", async () => {
    const reads = readsOf({ 'GET /a': '{"app":{"id":"/a"}}' });
    const hot = createHotReads(reads);
    expect(hot.answer(request('/v2/apps/a'), {})).toBeUndefined();
    hot.remember('/v2/apps/a', { appId: '/a', key: 'GET /a' });
    const answer = hot.answer(request('/v2/apps/a'), {});
    expect(answer?.status).toBe(200);
    expect(answer?.headers.get('content-type')).toBe('application/json');
    expect(await answer?.text()).toBe('{"app":{"id":"/a"}}');
    // The routing path: doubled slashes and a trailing one ask for the same app.
    expect(hot.answer(request('/v2//apps/a/'), {})).toBeDefined();
  });

  it('leaves to the route a query, another method, a new snapshot and a body not yet rendered', () => {
    const reads = readsOf({ 'GET /a': '{}', 'GET /b': Promise.resolve('{}') });
    const hot = createHotReads(reads);
    hot.remember('/v2/apps/a', { appId: '/a', key: 'GET /a' });
    hot.remember('/v2/apps/b', { appId: '/b', key: 'GET /b' });
    expect(hot.answer(request('/v2/apps/a?embed=app.tasks'), {})).toBeUndefined();
    expect(hot.answer(request('/v2/apps/a', 'HEAD'), {})).toBeUndefined();
    expect(hot.answer(request('/v2/apps/a', 'DELETE'), {})).toBeUndefined();
    expect(hot.answer(request('/v2/apps/b'), {})).toBeUndefined();
    reads.replace({});
    expect(hot.answer(request('/v2/apps/a'), {})).toBeUndefined();
    reads.replace(undefined);
    expect(hot.answer(request('/v2/apps/a'), {})).toBeUndefined();
  });

  it('answers a caller allowed to view the app; leaves any other to the route (403)', () => {
    const hot = createHotReads(readsOf({ 'GET /team/a': '{}' }));
    hot.remember('/v2/apps/team/a', { appId: '/team/a', key: 'GET /team/a' });
    const principal = (path: string) => ({
      principal: { name: 'p', grants: [{ path, actions: [Action.VIEW] }] },
    });
    expect(hot.answer(request('/v2/apps/team/a'), principal('/team'))).toBeDefined();
    expect(hot.answer(request('/v2/apps/team/a'), principal('/other'))).toBeUndefined();
  });
});
