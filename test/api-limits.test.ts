// Limits that hold for everyone at the API edge: linear-time patterns, stream caps, relay bodies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
