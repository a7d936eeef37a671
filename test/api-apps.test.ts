// Routes of /v2/apps in-process: create, read, list, update, delete, with Marathon's shapes.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApi, instanceOf } from './support/api-doubles.js';
import type { TestApi } from './support/api-doubles.js';

let api: TestApi;
beforeAll(async () => {
  api = await createTestApi();
});
afterAll(async () => {
  await api.close();
});
beforeEach(async () => {
  for (const app of await api.store.apps.list()) await api.store.apps.delete(app.id);
  for (const i of await api.store.instances.list()) await api.store.instances.delete(i.instanceId);
  for (const d of await api.store.deployments.list()) await api.store.deployments.delete(d.id);
  api.orchestrator.holdDeployments = false;
});

const simple = { id: '/simple', cmd: 'sleep 1000', cpus: 0.1, mem: 16, instances: 2 };

describe('POST /v2/apps', () => {
  it('answers 201 with Location, Marathon-Deployment-Id and an AppInfo with every default', async () => {
    const res = await api.json('POST', '/v2/apps', simple);
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe('/simple');
    const body = (await res.json()) as Record<string, unknown>;
    const deploymentId = res.headers.get('marathon-deployment-id');
    expect(deploymentId).toMatch(/^[0-9a-f-]{36}$/);
    expect(body).toEqual({
      id: '/simple',
      backoffFactor: 1.15,
      backoffSeconds: 1,
      cmd: 'sleep 1000',
      cpus: 0.1,
      disk: 0,
      executor: '',
      gpus: 0,
      instances: 2,
      killSelection: 'YOUNGEST_FIRST',
      labels: {},
      maxLaunchDelaySeconds: 300,
      mem: 16,
      networks: [{ mode: 'host' }],
      // Port 0 asks for a service port: the first of Marathon's range.
      portDefinitions: [{ port: 10000, protocol: 'tcp', name: 'default' }],
      requirePorts: false,
      role: '*',
      unreachableStrategy: { inactiveAfterSeconds: 0, expungeAfterSeconds: 0 },
      upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
      version: '2026-01-02T03:04:05.678Z',
      versionInfo: {
        lastScalingAt: '2026-01-02T03:04:05.678Z',
        lastConfigChangeAt: '2026-01-02T03:04:05.678Z',
      },
      tasksStaged: 0,
      tasksRunning: 0,
      tasksHealthy: 0,
      tasksUnhealthy: 0,
      deployments: [{ id: deploymentId }],
    });
  });

  it('answers 409 when the app exists', async () => {
    await api.json('POST', '/v2/apps', simple);
    const res = await api.json('POST', '/v2/apps', simple);
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({ message: 'An app with id [/simple] already exists.' });
  });

  it('answers 400 Invalid JSON with the parser message as a string for malformed JSON', async () => {
    const res = await api.json('POST', '/v2/apps', '{"id": ');
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const body = (await res.json()) as { message: string; details: unknown };
    expect(body.message).toBe('Invalid JSON');
    expect(typeof body.details).toBe('string');
  });

  it('answers 422 with Marathon paths for values out of range', async () => {
    const res = await api.json('POST', '/v2/apps', {
      ...simple,
      cpus: 0,
      upgradeStrategy: { minimumHealthCapacity: 2 },
      constraints: [['hostname', 'UNIQUE', 'x']],
    });
    expect(res.status).toBe(422);
    const body = (await res.json()) as {
      message: string;
      details: { path: string; errors: string[] }[];
    };
    expect(body.message).toBe('Object is not valid');
    expect(body.details).toEqual([{ path: '/cpus', errors: ['got 0.0, expected 0.001 or more'] }]);
    const second = await api.json('POST', '/v2/apps', {
      ...simple,
      upgradeStrategy: { minimumHealthCapacity: 2 },
      constraints: [['hostname', 'UNIQUE', 'x']],
    });
    expect(await second.json()).toEqual({
      message: 'Object is not valid',
      details: [
        { path: '/constraints(0)', errors: ['UNIQUE does not accept a value'] },
        { path: '/upgradeStrategy/minimumHealthCapacity', errors: ['is greater than 1'] },
      ],
    });
  });

  it('answers 400 with play-json keys for wrong JSON types', async () => {
    const res = await api.json('POST', '/v2/apps', { id: 5, cmd: 'x', instances: 'two' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      message: 'Invalid JSON',
      details: [
        { path: '/id', errors: ['error.expected.jsstring'] },
        { path: '/instances', errors: ['error.expected.jsnumber'] },
      ],
    });
  });

  it('refuses an app with neither cmd, args nor container', async () => {
    const res = await api.json('POST', '/v2/apps', { id: '/nothing' });
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({
      message: 'Object is not valid',
      details: [
        {
          path: '/',
          errors: [
            "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'.",
          ],
        },
      ],
    });
  });

  it('makes a relative id absolute and refuses a bad one', async () => {
    const ok = await api.json('POST', '/v2/apps', { ...simple, id: 'edge/hello' });
    expect(((await ok.json()) as { id: string }).id).toBe('/edge/hello');
    const bad = await api.json('POST', '/v2/apps', { ...simple, id: '/Edge_Hello' });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { details: { path: string }[] }).details[0]!.path).toBe('/id');
  });

  it('keeps a Wasm app as an ordinary Marathon app with its PACER_ labels', async () => {
    const wasm = {
      id: '/edge/hello',
      cmd: 'hello.wasm --greeting hi',
      fetch: [{ uri: 'http://master:8080/v2/artifacts/sha256:' + 'a'.repeat(64) + '/hello.wasm' }],
      labels: { PACER_WASM_FUEL: '2000000000' },
      mem: 32,
    };
    const res = await api.json('POST', '/v2/apps', wasm);
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.fetch).toEqual([
      { uri: wasm.fetch[0]!.uri, extract: true, executable: false, cache: false },
    ]);
    expect(body.labels).toEqual({ PACER_WASM_FUEL: '2000000000' });
    expect(Object.keys(body)).not.toContain('wasm');
  });
});

describe('GET /v2/apps/{id}', () => {
  it('wraps the AppInfo in {app} with counts, tasks and deployments, also with a doubled slash', async () => {
    await api.json('POST', '/v2/apps', simple);
    const stored = (await api.store.apps.get('/simple'))!;
    const running = instanceOf(stored);
    await api.store.instances.put(running);
    for (const path of ['/v2/apps/simple', '/v2/apps//simple']) {
      const res = await api.json('GET', path);
      expect(res.status).toBe(200);
      const { app } = (await res.json()) as { app: Record<string, unknown> };
      expect(app.tasksRunning).toBe(1);
      expect(app.deployments).toEqual([]);
      expect(app.tasks).toEqual([
        {
          appId: '/simple',
          id: `${running.instanceId}._app.1`,
          host: '10.0.0.5',
          state: 'TASK_RUNNING',
          role: '*',
          healthCheckResults: [],
          ipAddresses: [{ ipAddress: '10.0.0.5', protocol: 'IPv4' }],
          ports: [31000],
          servicePorts: [10000],
          localVolumes: [],
          slaveId: 'agent-1',
          stagedAt: '2026-01-02T03:04:05.678Z',
          startedAt: '2026-01-02T03:04:06.000Z',
          version: stored.version,
        },
      ]);
    }
  });

  it("answers 404 App '/x' does not exist", async () => {
    const res = await api.json('GET', '/v2/apps/missing/app');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ message: "App '/missing/app' does not exist" });
  });
});

describe('unknown routes', () => {
  it('answers 500 {"message":"URI not found"} as Marathon does', async () => {
    const res = await api.json('GET', '/v2/nothing-here');
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ message: 'URI not found' });
    expect(res.headers.get('x-marathon-leader')).toBe('http://master.test:8080');
  });
});

describe('service ports', () => {
  const portsOf = async (id: string) => {
    const { app } = (await (await api.app.request(`/v2/apps${id}`)).json()) as {
      app: { portDefinitions: { port: number }[] };
    };
    return app.portDefinitions.map((d) => d.port);
  };

  it('assigns each port 0 a service port no other app holds, and keeps given ports', async () => {
    await api.json('POST', '/v2/apps', {
      ...simple,
      id: '/ports/a',
      portDefinitions: [{ port: 0 }, { port: 0 }],
    });
    await api.json('POST', '/v2/apps', {
      ...simple,
      id: '/ports/b',
      portDefinitions: [{ port: 0 }, { port: 12345 }],
    });
    const a = await portsOf('/ports/a');
    const b = await portsOf('/ports/b');
    expect(b[1]).toBe(12345);
    const all = [...a, ...b];
    expect(new Set(all).size).toBe(all.length);
    for (const port of [...a, b[0]]) {
      expect(port).toBeGreaterThanOrEqual(10000);
      expect(port).toBeLessThanOrEqual(20000);
    }
  });

  it('keeps an app its ports through a partial update', async () => {
    await api.json('POST', '/v2/apps', { ...simple, id: '/ports/kept' });
    const before = await portsOf('/ports/kept');
    await api.json('PUT', '/v2/apps/ports/kept', { instances: 3 });
    expect(await portsOf('/ports/kept')).toEqual(before);
  });

  it('leaves port 0 dynamic with requirePorts (the ports are host ports)', async () => {
    await api.json('POST', '/v2/apps', {
      ...simple,
      id: '/ports/required',
      requirePorts: true,
      portDefinitions: [{ port: 0 }],
    });
    expect(await portsOf('/ports/required')).toEqual([0]);
  });
});
