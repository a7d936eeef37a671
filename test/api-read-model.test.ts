// The shared read snapshot: a client reads its own writes at once; changes made elsewhere show
// up with the next event (or after the cache time).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi, instanceOf } from './support/api-doubles.js';
import type { TestApi } from './support/api-doubles.js';

let api: TestApi;
beforeAll(async () => {
  api = await createTestApi({ readCacheMs: 60_000 });
});
afterAll(async () => {
  await api.close();
});

const tasksOf = async (path: string) =>
  ((await (await api.json('GET', path)).json()) as { tasks: unknown[] }).tasks;

/** Reads until `count` tasks show (a stale snapshot is served while the next one loads). */
async function eventually(path: string, count: number): Promise<number> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const seen = (await tasksOf(path)).length;
    if (seen === count) return seen;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return (await tasksOf(path)).length;
}

describe('the read snapshot', () => {
  it('shows a write made through the API to the very next read', async () => {
    expect(
      ((await (await api.json('GET', '/v2/apps')).json()) as { apps: unknown[] }).apps,
    ).toEqual([]);
    await api.json('POST', '/v2/apps', { id: '/cached', cmd: 'a.wasm' });
    expect((await api.json('GET', '/v2/apps/cached')).status).toBe(200);
  });

  it('shows a change made by the master (here: the store) once an event arrives', async () => {
    expect(await tasksOf('/v2/apps/cached/tasks')).toEqual([]);
    const app = (await api.store.apps.get('/cached'))!;
    await api.store.instances.put(instanceOf(app));
    expect(await tasksOf('/v2/apps/cached/tasks')).toEqual([]);
    await api.events.emit({ eventType: 'status_update_event', appId: '/cached' });
    expect(await eventually('/v2/apps/cached/tasks', 1)).toBe(1);
  });

  it('shows a change made elsewhere after the cache time even without an event', async () => {
    const app = (await api.store.apps.get('/cached'))!;
    await api.store.instances.put(instanceOf(app));
    expect(await tasksOf('/v2/tasks')).toHaveLength(1);
    api.clock.advance(60_001);
    expect(await eventually('/v2/tasks', 2)).toBe(2);
  });
});
