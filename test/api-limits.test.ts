// Limits that hold for everyone at the API edge: linear-time patterns, stream caps, relay bodies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer } from '../src/api/http-server.js';
import { createTestApi } from './support/api-doubles.js';
import type { TestApi } from './support/api-doubles.js';

let api: TestApi;
beforeAll(async () => {
  api = await createTestApi();
});
afterAll(async () => {
  await api.close();
});

const simple = { id: '/limits', cmd: 'sleep 1000', cpus: 0.1, mem: 16, instances: 0 };

describe('patterns from users run in RE2', () => {
  it.each([
    ['a backreference', '(r)\\1'],
    ['a lookahead', 'rack(?=-1)'],
    ['a lookbehind', '(?<=r)ack'],
  ])('answers 422 for a LIKE constraint with %s', async (_name, pattern) => {
    const res = await api.json('POST', '/v2/apps', {
      ...simple,
      constraints: [['rack', 'LIKE', pattern]],
    });
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({
      message: 'Object is not valid',
      details: [
        { path: '/constraints(0)', errors: [`'${pattern}' is not a valid regular expression`] },
      ],
    });
  });

  it('accepts a catastrophic-backtracking pattern, which RE2 runs in linear time', async () => {
    const res = await api.json('POST', '/v2/apps', {
      ...simple,
      id: '/limits/nested',
      constraints: [['rack', 'UNLIKE', '(a+)+$']],
    });
    expect(res.status).toBe(201);
  });

  it('answers a label selector of a hundred thousand spaces', async () => {
    const selector = encodeURIComponent(`a${' '.repeat(100_000)}b`);
    const res = await api.app.request(`/v2/apps?label=${selector}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ message: expect.stringMatching(/label selector/) });
  });
});

describe("a follower's relay", () => {
  it("refuses bodies over the leader's limits and relays nothing of them", async () => {
    // The leader accepts up to 1 MiB: whatever the follower lets through lands in its store.
    const leader = await startHttpServer({ app: api.app, port: 0, host: '127.0.0.1' });
    const leaderUrl = `http://127.0.0.1:${leader.port}`;
    const follower = await createTestApi({
      maxBodyBytes: 1000,
      maxArtifactBytes: 2000,
      leadership: { isLeader: () => false, leaderUrl: () => leaderUrl, abdicate: async () => {} },
    });
    try {
      const big = await follower.json('POST', '/v2/apps', { ...simple, cmd: 'y'.repeat(5000) });
      expect(big.status).toBe(413);
      expect(await big.json()).toEqual({ message: 'Request body is larger than 1000 bytes' });
      const artifact = await follower.app.request('/v2/artifacts', {
        method: 'POST',
        body: new Uint8Array(3000),
      });
      expect(artifact.status).toBe(413);
      // Chunked and endless, with no Content-Length to refuse early: counted as it streams.
      const chunks = new ReadableStream<Uint8Array>({
        pull: (controller) => controller.enqueue(new Uint8Array(600)),
      });
      const streamed = await follower.app.request('/v2/apps', {
        method: 'PUT',
        body: chunks,
        duplex: 'half',
      });
      expect(streamed.status).toBe(413);
      expect(await api.store.apps.get(simple.id)).toBeUndefined();
      expect(await api.store.artifacts.list()).toEqual([]);
      // Within the limits it still relays.
      const small = await follower.json('POST', '/v2/apps', simple);
      expect(small.status).toBe(201);
      expect(await api.store.apps.get(simple.id)).toBeDefined();
    } finally {
      await follower.close();
      await leader.close();
    }
  });
});

describe('bodies framed by Content-Length over HTTP', () => {
  it('refuses one declared over the limit from its header and reads one within it directly', async () => {
    const limited = await createTestApi({ maxBodyBytes: 1000 });
    const server = await startHttpServer({ app: limited.app, port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${server.port}/v2/apps`;
    try {
      const post = (body: string) =>
        fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const big = await post(JSON.stringify({ ...simple, cmd: 'y'.repeat(5000) }));
      expect(big.status).toBe(413);
      expect(await big.json()).toEqual({ message: 'Request body is larger than 1000 bytes' });
      expect(await limited.store.apps.get(simple.id)).toBeUndefined();
      const small = await post(JSON.stringify(simple));
      expect(small.status).toBe(201);
      expect((await limited.store.apps.get(simple.id))?.cmd).toBe(simple.cmd);
    } finally {
      await server.close();
      await limited.close();
    }
  });
});
