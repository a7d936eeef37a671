// Caps on open event streams and log follows, in total and per principal (429 beyond), and
// their release when a client leaves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Action } from '../src/domain/index.js';
import { currentTaskId } from '../src/domain/index.js';
import { createTestApi, instanceOf } from './support/api-doubles.js';
import type { TestApi } from './support/api-doubles.js';
import { as, principalsByName } from './support/test-principals.js';
import { waitFor } from './support/wait-for.js';

const everything = [{ path: '/', actions: [Action.ADMIN] }];
let api: TestApi;
let taskId: string;
beforeAll(async () => {
  api = await createTestApi({
    auth: principalsByName([
      { name: 'alice', grants: everything },
      { name: 'bob', grants: everything },
      { name: 'carol', grants: everything },
    ]),
    streamCaps: {
      eventStreams: { total: 3, perPrincipal: 2 },
      logFollows: { total: 3, perPrincipal: 2 },
    },
  });
  const instance = instanceOf({ id: '/followed', version: '2026-01-02T03:04:05.678Z' });
  await api.store.instances.put(instance);
  taskId = currentTaskId(instance);
});
afterAll(async () => {
  await api.close();
});

const kinds = [
  {
    what: 'event streams',
    open: (name: string) =>
      api.app.request('/v2/events', { headers: as(name, { Accept: 'text/event-stream' }) }),
  },
  {
    what: 'log follows',
    open: (name: string) =>
      api.app.request(`/v2/tasks/${taskId}/logs?follow=true`, { headers: as(name) }),
  },
];

describe.each(kinds)('caps on $what', ({ what, open }) => {
  it('answers 429 past the per-principal and total caps, and frees a slot when a client leaves', async () => {
    const alice1 = await open('alice');
    const alice2 = await open('alice');
    expect([alice1.status, alice2.status]).toEqual([200, 200]);
    const alice3 = await open('alice');
    expect(alice3.status).toBe(429);
    expect(await alice3.json()).toEqual({
      message: `Too many open ${what} for 'alice': the limit is 2 per principal`,
    });
    // Another principal is not held back by alice's streams, up to the total.
    const bob1 = await open('bob');
    expect(bob1.status).toBe(200);
    const carol1 = await open('carol');
    expect(carol1.status).toBe(429);
    expect(await carol1.json()).toEqual({ message: `Too many open ${what}: the limit is 3` });
    // Leaving frees the slot.
    await alice1.body?.cancel();
    await waitFor('a slot for carol', async () => {
      const again = await open('carol');
      await again.body?.cancel();
      return again.status === 200;
    });
    for (const res of [alice2, bob1]) await res.body?.cancel();
    // Every slot is back: a principal opens its full share again.
    await waitFor("alice's full share", async () => {
      const back = [await open('alice'), await open('alice')];
      for (const res of back) await res.body?.cancel();
      return back.every((r) => r.status === 200);
    });
  });
});
