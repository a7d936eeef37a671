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
    expect(await tasksOf('/v2/apps/cached/tasks')).toHaveLength(1);
  });

  it('shows a change made elsewhere after the cache time even without an event', async () => {
    const app = (await api.store.apps.get('/cached'))!;
    await api.store.instances.put(instanceOf(app));
    expect(await tasksOf('/v2/tasks')).toHaveLength(1);
    api.clock.advance(60_001);
    expect(await tasksOf('/v2/tasks')).toHaveLength(2);
  });
});
