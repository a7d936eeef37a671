// Limit labels at the API: zero, negative, fractional or unparsable values are a 422 at the
// label's path, never a silent default or "unlimited" (issue 11, rule 10).
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

const app = (labels: Record<string, string>) => ({
  id: '/limits/app',
  cmd: 'hello.wasm',
  cpus: 0.1,
  mem: 16,
  instances: 0,
  labels,
});

type Details = { path: string; errors: string[] }[];

describe('PACER_ limit labels', () => {
  const bad = ['0', '-1', '1.5', '1e9', ' 5', '05', '0x10', 'unlimited', '', '٣'];
  for (const name of ['PACER_WASM_FUEL', 'PACER_WASM_TIMEOUT_SECONDS']) {
    it(`answers 422 at /labels/${name} for ${bad.length} values that are not a whole number > 0`, async () => {
      for (const value of bad) {
        const res = await api.json('POST', '/v2/apps', app({ [name]: value }));
        expect(res.status, `${name}=${JSON.stringify(value)}`).toBe(422);
        const { details } = (await res.json()) as { details: Details };
        expect(details.map((d) => d.path)).toEqual([`/labels/${name}`]);
      }
    });
  }

  it('answers 422 for fuel past what the 64-bit counter holds, and on PUT as on POST', async () => {
    const res = await api.json('POST', '/v2/apps', app({ PACER_WASM_FUEL: '9223372036854775808' }));
    expect(res.status).toBe(422);
    expect(((await res.json()) as { details: Details }).details).toEqual([
      { path: '/labels/PACER_WASM_FUEL', errors: ['must be at most 9223372036854775807'] },
    ]);
    const put = await api.json(
      'PUT',
      '/v2/apps/limits/app',
      app({ PACER_WASM_TIMEOUT_SECONDS: '0' }),
    );
    expect(put.status).toBe(422);
  });

  it('accepts whole numbers > 0, however large the agent may find them', async () => {
    const res = await api.json(
      'POST',
      '/v2/apps',
      app({ PACER_WASM_FUEL: '9223372036854775807', PACER_WASM_TIMEOUT_SECONDS: '60' }),
    );
    expect(res.status).toBe(201);
  });
});
