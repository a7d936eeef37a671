// The shared read snapshot. Over the store: a client reads its own writes at once; changes
// made elsewhere show up with the next event (or after the cache time). Over the leader's
// state in memory: every change shows at the next read, and reads query nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../src/api/index.js';
import { createApplier } from '../src/master/applier/index.js';
import type { Applier } from '../src/master/applier/index.js';
import { liveState } from '../src/master/live-state.js';
import { makeApp } from '../src/scheduler/fixtures.js';
import { checkingContract, createTestApi, instanceOf } from './support/api-doubles.js';
import type { TestApi } from './support/api-doubles.js';
import { waitFor } from './support/wait-for.js';

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
const showsTasks = (path: string, count: number) =>
  waitFor(`${count} tasks at ${path}`, async () => (await tasksOf(path)).length === count);

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
    await showsTasks('/v2/apps/cached/tasks', 1);
  });

  it('shows a change made elsewhere after the cache time even without an event', async () => {
    const app = (await api.store.apps.get('/cached'))!;
    await api.store.instances.put(instanceOf(app));
    expect(await tasksOf('/v2/tasks')).toHaveLength(1);
    api.clock.advance(60_001);
    await showsTasks('/v2/tasks', 2);
  });
});

describe("reads of the leader's state", () => {
  let leader: TestApi;
  let applier: Applier;
  let storeLists = 0;

  beforeAll(async () => {
    leader = await createTestApi();
    applier = createApplier({
      store: leader.store,
      events: leader.events,
      logger: leader.deps.logger,
    });
    await applier.load();
    const list = leader.store.apps.list.bind(leader.store.apps);
    leader.store.apps.list = () => {
      storeLists++;
      return list();
    };
    // The same API, now over the leader's memory (as startMaster builds it).
    leader.app = checkingContract(createApi({ ...leader.deps, live: liveState(applier) }));
  });
  afterAll(async () => {
    await leader.close();
  });

  const get = async (path: string) => (await leader.app.request(path)).json() as Promise<any>;

  it('shows each change the applier applies at the very next read', async () => {
    const app = makeApp({ id: '/live', version: '2026-03-01T00:00:00.000Z' });
    await applier.submit({ source: 'orchestrator', apps: [app] });
    expect((await get('/v2/apps/live')).app.tasks).toEqual([]);
    await applier.submit({ source: 'evaluation', create: [instanceOf(app)] });
    expect((await get('/v2/apps/live')).app.tasksRunning).toBe(1);
    expect((await get('/v2/tasks')).tasks).toHaveLength(1);
    await applier.submit({ source: 'orchestrator', removeApps: ['/live'] });
    expect((await leader.app.request('/v2/apps/live')).status).toBe(404);
  });

  it('answers a repeated read of one app alike (hot-reads.ts) until the app changes', async () => {
    const app = makeApp({ id: '/hot', version: '2026-03-01T00:00:00.000Z' });
    await applier.submit({ source: 'orchestrator', apps: [app] });
    const read = async (path: string) => {
      const response = await leader.app.request(path);
      const { status } = response;
      return { status, type: response.headers.get('content-type'), body: await response.text() };
    };
    const first = await read('/v2/apps/hot');
    expect(first).toMatchObject({ status: 200, type: 'application/json' });
    expect(await read('/v2/apps/hot')).toEqual(first);
    expect(await read('/v2//apps/hot/')).toEqual(first);
    await applier.submit({ source: 'evaluation', create: [instanceOf(app)] });
    expect(JSON.parse((await read('/v2/apps/hot')).body).app.tasksRunning).toBe(1);
    await applier.submit({ source: 'orchestrator', removeApps: ['/hot'] });
    expect((await read('/v2/apps/hot')).status).toBe(404);
  });

  it('queries no store while it holds state, and reads the store once it holds none', async () => {
    storeLists = 0;
    await get('/v2/apps');
    await get('/v2/apps/live/*');
    expect(storeLists).toBe(0);
    applier.forget(); // leadership lost
    await get('/v2/apps');
    expect(storeLists).toBe(1);
  });
});
