// Compatibility suite: every app and group definition of Marathon's published examples is
// accepted, or refused with Marathon's reason (Pacer runs like a Marathon without optional
// features and without a default container network); plus the client habits of BEHAVIOUR.md.
import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApi } from './support/api-doubles.js';
import type { TestApi } from './support/api-doubles.js';

// shared/ sits beside the repository, in a clone (CI) as here.
const BASE = fileURLToPath(new URL('../../shared/marathon-api/', import.meta.url));
const read = async (file: string) => JSON.parse(await readFile(BASE + file, 'utf8')) as unknown;
const feature = (name: string) =>
  `Feature ${name} is not enabled. Enable with --enable_features ${name})`;

/** Examples Marathon would refuse here, with its answer. */
const REFUSED: Record<string, unknown> = {
  'examples/system-tests/apps/external-volume-mesos-app.json': {
    message: 'Object is not valid',
    details: [{ path: '/container/volumes(0)', errors: [feature('external_volumes')] }],
  },
  'examples/system-tests/apps/private-ucr-docker-app.json': {
    message: 'Object is not valid',
    details: [
      { path: '/container/docker/pullConfig', errors: ['must be empty', feature('secrets')] },
      { path: '/secrets', errors: [feature('secrets')] },
    ],
  },
  // The RAML's kitchen-sink example breaks several rules at once.
  'raml/v2/examples/app.json': {
    message: 'Object is not valid',
    details: [
      { path: '/ipAddress', errors: ['ipAddress/discovery is not allowed for Docker containers'] },
      {
        path: '/',
        errors: [
          'cannot specify both an IP address and port',
          "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'.",
          'portDefinitions are only allowed with host-networking',
        ],
      },
      {
        path: '/networks',
        errors: ['Network name must be specified when container network is selected.'],
      },
      // Pacer's own rule (issue 11): `mesosphere:marathon/latest` is no OCI image reference.
      {
        path: '/container/docker/image',
        errors: ['must be an image reference such as registry.example:5000/team/app:1.0'],
      },
      { path: '/secrets', errors: [feature('secrets')] },
      { path: '/env/PASSWORD', errors: [feature('secrets')] },
      // Marathon 1.9's role rule: the app's role is `*` (no enforceRole group), so only `*`.
      {
        path: '/acceptedResourceRoles',
        errors: ['acceptedResourceRoles can only contain * and *'],
      },
    ],
  },
};

const appFiles = [
  ...(await readdir(BASE + 'examples/system-tests/apps')).map(
    (f) => `examples/system-tests/apps/${f}`,
  ),
  'examples/articles/request-app-simple.json',
  'raml/v2/examples/app.json',
  'raml/v2/examples/app-check-http-example.json',
];

let api: TestApi;
beforeAll(async () => {
  api = await createTestApi();
});
afterAll(async () => {
  await api.close();
});
beforeEach(async () => {
  for (const app of await api.store.apps.list()) await api.store.apps.delete(app.id);
});

describe('Marathon example apps', () => {
  it.each(appFiles)('%s is accepted, or refused with Marathon’s reason', async (file) => {
    const res = await api.json('POST', '/v2/apps', await read(file));
    const expected = REFUSED[file];
    if (expected) {
      expect(res.status).toBe(422);
      expect(await res.json()).toEqual(expected);
    } else {
      expect(res.status).toBe(201);
    }
  });

  it('apps_create.json (a list) is accepted by PUT /v2/apps', async () => {
    const res = await api.json('PUT', '/v2/apps', await read('raml/v2/examples/apps_create.json'));
    expect(res.status).toBe(200);
  });

  it('answers with only Marathon fields, never the deprecated ports, uris or ipAddress', async () => {
    const res = await api.json(
      'POST',
      '/v2/apps',
      await read('examples/system-tests/apps/healthcheck-and-volume.json'),
    );
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).not.toHaveProperty('ports');
    expect(body).not.toHaveProperty('uris');
    expect(body).not.toHaveProperty('ipAddress');
    expect(body.networks).toEqual([{ mode: 'container', name: 'dcos' }]);
    expect(body.unreachableStrategy).toBe('disabled');
    expect(body.upgradeStrategy).toEqual({ minimumHealthCapacity: 0.5, maximumOverCapacity: 0 });
  });
});

describe('Marathon example groups', () => {
  it('sleep-group.json is created', async () => {
    expect(
      (
        await api.json(
          'POST',
          '/v2/groups',
          await read('examples/system-tests/groups/sleep-group.json'),
        )
      ).status,
    ).toBe(201);
  });

  it('group.json (a GroupInfo answer) is refused as an update for its version fields', async () => {
    const res = await api.json('PUT', '/v2/groups', await read('raml/v2/examples/group.json'));
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({
      message: 'Object is not valid',
      details: [
        { path: '/version', errors: ['not allowed in conjunction with other properties.'] },
        {
          path: '/groups(0)/version',
          errors: ['not allowed in conjunction with other properties.'],
        },
        {
          path: '/groups(0)/groups(0)/version',
          errors: ['not allowed in conjunction with other properties.'],
        },
        {
          path: '/groups(0)/groups(1)/version',
          errors: ['not allowed in conjunction with other properties.'],
        },
      ],
    });
  });

  it('group.json without its version fields is accepted', async () => {
    const strip = (group: Record<string, unknown>): Record<string, unknown> => {
      const { version: _v, ...rest } = group;
      return {
        ...rest,
        apps: ((group.apps ?? []) as Record<string, unknown>[]).map(
          ({ version: _av, ...app }) => app,
        ),
        groups: ((group.groups ?? []) as Record<string, unknown>[]).map(strip),
      };
    };
    const body = strip((await read('raml/v2/examples/group.json')) as Record<string, unknown>);
    expect((await api.json('PUT', '/v2/groups', body)).status).toBe(200);
  });
});

describe('what Marathon clients need (BEHAVIOUR.md)', () => {
  const app = { id: '/client/app', cmd: 'sleep 100', instances: 1 };

  it('ids with a doubled slash work like the single-slash form', async () => {
    await api.json('POST', '/v2/apps', app);
    for (const path of [
      '/v2/apps//client/app',
      '/v2/apps//client/app/tasks',
      '/v2/apps//client/app/versions',
    ]) {
      expect((await api.json('GET', path)).status).toBe(200);
    }
    expect((await api.json('POST', '/v2/apps//client/app/restart')).status).toBe(200);
  });

  it('creating answers 201, never 200', async () => {
    expect((await api.json('POST', '/v2/apps', app)).status).toBe(201);
  });

  it('every 2xx that changes something has a JSON body', async () => {
    const answers = [
      await api.json('POST', '/v2/apps', app),
      await api.json('PUT', '/v2/apps/client/app', { instances: 2 }),
      await api.json('PATCH', '/v2/apps/client/app', { instances: 3 }),
      await api.json('POST', '/v2/apps/client/app/restart'),
      await api.json('DELETE', '/v2/apps/client/app/tasks'),
      await api.json('DELETE', '/v2/apps/client/app'),
    ];
    for (const res of answers) {
      expect(res.status).toBeLessThan(300);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(typeof (await res.json())).toBe('object');
    }
  });

  it('GET and DELETE with Content-Type: application/json and no body are accepted', async () => {
    await api.json('POST', '/v2/apps', app);
    const get = await api.app.request('/v2/apps/client/app', {
      headers: { 'Content-Type': 'application/json' },
    });
    expect(get.status).toBe(200);
    const del = await api.app.request('/v2/apps/client/app', {
      method: 'DELETE',
      headers: { 'Content-Type': 'application/json', 'Content-Length': '0' },
    });
    expect(del.status).toBe(200);
  });

  it('accepts capitalised booleans in the query string', async () => {
    api.orchestrator.holdDeployments = true;
    try {
      await api.json('POST', '/v2/apps', app);
      expect(
        (await api.json('PUT', '/v2/apps/client/app?force=False', { instances: 2 })).status,
      ).toBe(409);
      expect(
        (await api.json('PUT', '/v2/apps/client/app?force=True', { instances: 2 })).status,
      ).toBe(200);
    } finally {
      api.orchestrator.holdDeployments = false;
      for (const d of await api.store.deployments.list()) await api.store.deployments.delete(d.id);
    }
  });

  it('writes timestamps as UTC with milliseconds and Z', async () => {
    const body = (await (await api.json('POST', '/v2/apps', app)).json()) as { version: string };
    expect(body.version).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('error bodies are JSON objects with a message, for 4xx and 5xx', async () => {
    for (const [method, path] of [
      ['GET', '/v2/apps/missing'],
      ['GET', '/no/such/route'],
      ['POST', '/v2/apps'],
    ] as const) {
      const res = await api.json(method, path, method === 'POST' ? '{' : undefined);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(typeof ((await res.json()) as { message: unknown }).message).toBe('string');
    }
  });

  it('adds X-Marathon-Leader to every answer', async () => {
    for (const path of ['/ping', '/v2/apps', '/v2/info', '/nowhere']) {
      expect((await api.app.request(path)).headers.get('x-marathon-leader')).toBe(
        'http://master.test:8080',
      );
    }
  });
});
