// Wasm services end to end on `pacer dev`, through the Marathon API only: a socket-mode C
// service and a WAGI handler deployed from uploaded artifacts answer on their task ports, their
// HTTP health checks see them, a looping handler request gets a 5xx while others answer, and a
// failing health check marks a task unhealthy.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiClient,
  freePort,
  startPacer,
  tempDir,
  waitFor,
  waitForApi,
  type PacerProcess,
} from './support/cluster.js';

interface Task {
  id: string;
  host: string;
  ports: number[];
  state: string;
  healthCheckResults?: { alive: boolean }[];
}

describe('Wasm services on pacer dev', () => {
  let dev: PacerProcess;
  let api: ReturnType<typeof apiClient>;
  const uris = new Map<string, string>();

  beforeAll(async () => {
    const port = await freePort();
    api = apiClient(`http://127.0.0.1:${port}`);
    dev = startPacer(
      [
        'dev',
        '--port',
        String(port),
        '--host',
        '127.0.0.1',
        '--data-dir',
        await tempDir('pacer-svc'),
      ],
      {},
    );
    await waitForApi(api.url, dev);
    for (const name of ['http-hello', 'wagi-hello']) {
      const bytes = await readFile(path.resolve(`wasm-tasks/build/${name}.wasm`));
      const upload = await api.post('/v2/artifacts', new Uint8Array(bytes), {
        'content-type': 'application/wasm',
      });
      expect(upload.status).toBe(201);
      uris.set(name, `${upload.body.uri}/${name}.wasm`);
    }
  }, 60_000);

  afterAll(async () => {
    await dev?.stop();
  });

  const healthCheck = (checkPath: string) => ({
    protocol: 'HTTP',
    path: checkPath,
    portIndex: 0,
    gracePeriodSeconds: 5,
    intervalSeconds: 1,
    timeoutSeconds: 2,
    maxConsecutiveFailures: 1000,
  });

  async function tasksOf(id: string): Promise<Task[]> {
    return ((await api.get(`/v2/apps${id}/tasks`)).body.tasks ?? []) as Task[];
  }

  async function healthyTask(id: string, alive = true): Promise<Task> {
    return waitFor(
      `${id} ${alive ? 'healthy' : 'unhealthy'}`,
      async () =>
        (await tasksOf(id)).find((t) => t.healthCheckResults?.[0]?.alive === alive) ?? false,
      30_000,
    );
  }

  it('serves HTTP from a socket-mode C service that its health check finds alive', async () => {
    const app = {
      id: '/svc/hello',
      cpus: 0.1,
      mem: 16,
      portDefinitions: [{ port: 0, protocol: 'tcp', name: 'http' }],
      fetch: [{ uri: uris.get('http-hello') }],
      cmd: 'http-hello.wasm hi',
      env: { GREETING: 'edge' },
      labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'hello.example' },
      healthChecks: [healthCheck('/')],
    };
    expect((await api.post('/v2/apps', app)).status).toBe(201);
    const task = await healthyTask(app.id);
    const response = await fetch(`http://127.0.0.1:${task.ports[0]}/`);
    expect(await response.text()).toBe('hi edge\n');
    expect((await api.get(`/v2/apps${app.id}`)).body.app).toMatchObject({ tasksHealthy: 1 });
    const logs = await api.get(`/v2/tasks/${task.id}/logs?stream=stdout`);
    expect((logs.body.lines as { line: string }[]).map((l) => l.line)).toContain(
      'listening on fd 3',
    );
    expect((await api.delete(`/v2/apps${app.id}`)).status).toBe(200);
  }, 60_000);

  it('answers each request from a fresh WAGI instance; a looping one gets a 5xx, others go on', async () => {
    const app = {
      id: '/svc/wagi',
      cpus: 0.1,
      mem: 16,
      portDefinitions: [{ port: 0, protocol: 'tcp', name: 'http' }],
      fetch: [{ uri: uris.get('wagi-hello') }],
      cmd: 'wagi-hello.wasm',
      env: { GREETING: 'cgi' },
      labels: { PACER_WASM_HTTP: 'wagi', PACER_WASM_FUEL: '100000000' },
      healthChecks: [healthCheck('/health')],
    };
    expect((await api.post('/v2/apps', app)).status).toBe(201);
    const task = await healthyTask(app.id);
    const base = `http://127.0.0.1:${task.ports[0]}`;
    const looping = fetch(`${base}/loop`);
    const others = await Promise.all(
      Array.from({ length: 8 }, (_, i) => fetch(`${base}/n/${i}?q=${i}`).then((r) => r.text())),
    );
    others.forEach((text, i) => expect(text).toContain(`path=/n/${i}\nquery=q=${i}\n`));
    expect(others[0]).toContain('greeting=cgi\n');
    const stuck = await looping;
    expect(stuck.status).toBeGreaterThanOrEqual(500);
    expect((await fetch(`${base}/after`)).status).toBe(200);
    expect((await api.delete(`/v2/apps${app.id}`)).status).toBe(200);
  }, 60_000);

  it('finishes a deployment once a socket-mode task passes its readiness check, TCP-healthy', async () => {
    const app = {
      id: '/svc/ready',
      cpus: 0.1,
      mem: 16,
      portDefinitions: [{ port: 0, protocol: 'tcp', name: 'http' }],
      fetch: [{ uri: uris.get('http-hello') }],
      cmd: 'http-hello.wasm',
      healthChecks: [{ ...healthCheck('/'), protocol: 'TCP', path: undefined }],
      readinessChecks: [
        {
          name: 'ready',
          protocol: 'HTTP',
          path: '/',
          portName: 'http',
          intervalSeconds: 2,
          timeoutSeconds: 1,
          httpStatusCodesForReady: [200],
          preserveLastResponse: true,
        },
      ],
    };
    const created = await api.post('/v2/apps', app);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await healthyTask(app.id);
    await waitFor(
      'the deployment done',
      async () => ((await api.get('/v2/deployments')).body as unknown[]).length === 0,
      30_000,
    );
    expect((await api.delete(`/v2/apps${app.id}`)).status).toBe(200);
  }, 60_000);

  it('marks a Wasm task whose HTTP health check fails unhealthy', async () => {
    const app = {
      id: '/svc/sick',
      cpus: 0.1,
      mem: 16,
      portDefinitions: [{ port: 0, protocol: 'tcp', name: 'http' }],
      fetch: [{ uri: uris.get('wagi-hello') }],
      cmd: 'wagi-hello.wasm',
      labels: { PACER_WASM_HTTP: 'wagi' },
      healthChecks: [healthCheck('/status/503')],
    };
    expect((await api.post('/v2/apps', app)).status).toBe(201);
    await healthyTask(app.id, false);
    expect((await api.get(`/v2/apps${app.id}`)).body.app).toMatchObject({ tasksHealthy: 0 });
    expect((await api.delete(`/v2/apps${app.id}`)).status).toBe(200);
  }, 60_000);
});
