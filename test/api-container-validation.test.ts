// Issue 11, rows 1 and 2 at the API: container values that would reach an engine's command
// line as flags or as unchecked host paths are a 422 with Marathon's path of the field.
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

const docker = (container: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  id: `/ctr-${Math.random().toString(36).slice(2, 8)}`,
  cpus: 0.1,
  mem: 16,
  instances: 0,
  container: { type: 'DOCKER', docker: { image: 'busybox:1' }, ...container },
  ...extra,
});

async function detailsOf(body: unknown): Promise<{ path: string; errors: string[] }[]> {
  const res = await api.json('POST', '/v2/apps', body);
  expect(res.status).toBe(422);
  return ((await res.json()) as { details: { path: string; errors: string[] }[] }).details;
}

describe('POST /v2/apps with hostile container values', () => {
  it('refuses an image that is a flag, at /container/docker/image', async () => {
    for (const image of ['--privileged', '-v', 'busybox --privileged', 'a b']) {
      const details = await detailsOf(docker({ docker: { image } }, { args: ['sh'] }));
      expect(details.map((d) => d.path)).toEqual(['/container/docker/image']);
    }
  });

  it('refuses a relative hostPath that climbs out of the sandbox, at its own path', async () => {
    const details = await detailsOf(
      docker({
        volumes: [
          { containerPath: '/ok', hostPath: 'data', mode: 'RW' },
          { containerPath: '/host', hostPath: '../../../../..', mode: 'RW' },
        ],
      }),
    );
    expect(details).toEqual([
      {
        path: '/container/volumes(1)/hostPath',
        errors: ["must stay inside the sandbox (no '..' above it)"],
      },
    ]);
  });

  it('refuses engine separators in volume paths and unknown port protocols', async () => {
    const details = await detailsOf(
      docker({
        volumes: [{ containerPath: '/d:/etc:rw', hostPath: 'x,y', mode: 'RW' }],
        portMappings: [{ containerPort: 80, hostPort: 0, protocol: 'tcp -v' }],
      }),
    );
    expect(details.map((d) => d.path)).toEqual(
      expect.arrayContaining([
        '/container/portMappings(0)/protocol',
        '/container/volumes(0)/containerPath',
        '/container/volumes(0)/hostPath',
      ]),
    );
  });

  it('refuses a docker parameter key that is not an option name', async () => {
    const details = await detailsOf(
      docker({ docker: { image: 'busybox', parameters: [{ key: 'privileged -v', value: '1' }] } }),
    );
    expect(details.map((d) => d.path)).toEqual(['/container/docker/parameters(0)/key']);
  });

  it('refuses env names that would set another variable', async () => {
    const details = await detailsOf(
      docker({}, { cmd: 'true', env: { 'A=B': 'x', 'LINE\nBREAK': 'y' } }),
    );
    expect(details.map((d) => d.path).sort()).toEqual(['/env/A=B', '/env/LINE\nBREAK']);
  });

  it('keeps valid Marathon: absolute host paths, docker parameters, registries with ports and digests', async () => {
    const res = await api.json(
      'POST',
      '/v2/apps',
      docker({
        docker: {
          image: `registry.example:5000/team/app:1.0@sha256:${'a'.repeat(64)}`,
          parameters: [{ key: 'shm-size', value: '64m' }],
        },
        volumes: [
          { containerPath: '/data', hostPath: '/srv/data', mode: 'RO' },
          { containerPath: '/work', hostPath: './work/../cache', mode: 'RW' },
        ],
      }),
    );
    expect(res.status).toBe(201);
  });
});
