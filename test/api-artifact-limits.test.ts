// Artifacts are not free storage: uploading needs `create` somewhere, each principal has a byte
// quota, and an artifact is deleted by its uploader or an admin.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Action } from '../src/domain/index.js';
import { createTestApi } from './support/api-doubles.js';
import type { TestApi } from './support/api-doubles.js';
import { as, principalsByName } from './support/test-principals.js';

let api: TestApi;
beforeAll(async () => {
  api = await createTestApi({
    artifactQuotaBytes: 1000,
    auth: principalsByName([
      { name: 'admin', grants: [{ path: '/', actions: [Action.ADMIN] }] },
      { name: 'alice', grants: [{ path: '/team-a', actions: [Action.CREATE, Action.VIEW] }] },
      { name: 'bob', grants: [{ path: '/team-b', actions: [Action.CREATE] }] },
      { name: 'viewer', grants: [{ path: '/', actions: [Action.VIEW] }] },
    ]),
  });
});
afterAll(async () => {
  await api.close();
});

const upload = (who: string, bytes: Uint8Array) =>
  api.app.request('/v2/artifacts', { method: 'POST', headers: as(who), body: bytes });
const digestOf = (bytes: Uint8Array) =>
  `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const bytesOf = (size: number, fill: number) => new Uint8Array(size).fill(fill);

describe('artifact limits', () => {
  it('refuses uploads from a principal that may create nothing (403)', async () => {
    const res = await upload('viewer', bytesOf(10, 1));
    expect(res.status).toBe(403);
    expect(await api.store.artifacts.get(digestOf(bytesOf(10, 1)))).toBeUndefined();
  });

  it('counts each principal against its quota; known bytes cost nothing more', async () => {
    expect((await upload('alice', bytesOf(600, 2))).status).toBe(201);
    const over = await upload('alice', bytesOf(500, 3));
    expect(over.status).toBe(413);
    expect(((await over.json()) as { message: string }).message).toMatch(
      /^Artifact quota exceeded: 'alice' stores 600 of 1000 bytes/,
    );
    // Another principal has its own quota; re-uploading known bytes charges no one.
    expect((await upload('bob', bytesOf(500, 3))).status).toBe(201);
    expect((await upload('alice', bytesOf(500, 3))).status).toBe(201);
    expect(await api.store.artifacts.bytesOf('alice')).toBe(600);
    expect(await api.store.artifacts.bytesOf('bob')).toBe(500);
  });

  it('deletes only for the uploader or an admin, and frees the quota', async () => {
    const alices = digestOf(bytesOf(600, 2));
    const del = (who: string, digest: string) =>
      api.app.request(`/v2/artifacts/${digest}`, { method: 'DELETE', headers: as(who) });
    expect((await del('bob', alices)).status).toBe(403);
    expect((await del('viewer', alices)).status).toBe(403);
    expect(await api.store.artifacts.get(alices)).toBeDefined();
    expect((await del('alice', alices)).status).toBe(204);
    expect((await del('alice', alices)).status).toBe(404);
    expect(await api.store.artifacts.bytesOf('alice')).toBe(0);
    expect((await upload('alice', bytesOf(900, 4))).status).toBe(201);
    expect((await del('admin', digestOf(bytesOf(900, 4)))).status).toBe(204);
  });
});
