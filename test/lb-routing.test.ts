// `pacer lb` end to end on a real `pacer dev`: command tasks serve HTTP, the balancer follows the
// master's event stream with a view-only token and routes by Host and path, within its group, to
// healthy tasks only; its status page and metrics say what it does; a cut event stream resumes.
import net from 'node:net';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/lib/index.js';
import { startBalancer, type Balancer } from '../src/lb/index.js';
import { startPacer, waitFor } from './support/cluster.js';
import { backendApp } from './support/lb-backend.js';
import { startLbDev, type LbDev } from './support/lb-dev.js';
import { exchange } from './support/socket-exchange.js';
import { hasCommand } from './support/services.js';

const ok = await hasCommand('bwrap', ['--version']);

const client = new Agent({ connections: 8 });

async function get(port: number, path: string, host: string) {
  const response = await request(`http://127.0.0.1:${port}${path}`, {
    headers: { host },
    dispatcher: client,
  });
  const text = await response.body.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.statusCode, text, json, headers: response.headers };
}

describe.skipIf(!ok)('pacer lb on pacer dev', () => {
  let dev: LbDev;
  let viewToken: string;
  let lb: Balancer;

  beforeAll(async () => {
    dev = await startLbDev();
    // The balancer's credential: view on everything, nothing else.
    viewToken = await dev.token('lb', [{ path: '/', actions: ['view'] }]);
    const web = backendApp(
      '/lbt/web',
      { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'Web.Example,www.web.example' },
      { instances: 2 },
    );
    const api = backendApp('/lbt/api', {
      HAPROXY_GROUP: 'external',
      HAPROXY_0_VHOST: 'web.example',
      HAPROXY_0_PATH: '/api',
    });
    const internal = backendApp('/lbt/internal', {
      HAPROXY_GROUP: 'internal',
      HAPROXY_0_VHOST: 'internal.example',
    });
    const tcp = backendApp('/lbt/tcp', { HAPROXY_GROUP: 'external', HAPROXY_0_MODE: 'tcp' });
    for (const app of [web, api, internal, tcp])
      expect((await dev.call('POST', '/v2/apps', app)).status).toBe(201);
    await dev.healthyTasks('/lbt/web', 2);
    await dev.healthyTasks('/lbt/api', 1);
    await dev.healthyTasks('/lbt/internal', 1);
    await dev.healthyTasks('/lbt/tcp', 1);
    lb = await startBalancer({
      master: { url: dev.url, token: viewToken },
      logger: silentLogger(),
      port: 0,
      host: '127.0.0.1',
      group: 'external',
    });
    await waitFor(
      'both web tasks in rotation',
      () => lb.table().matchVhost('web.example', '/')?.backends.length === 2,
    );
  }, 120_000);

  afterAll(async () => {
    await lb?.stop();
    await client.close();
    await dev?.stop();
  }, 60_000);

  it('routes by Host (any case, port dropped) and by path prefix, to every task, with X-Forwarded-*', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 6; i += 1) {
      const answer = await get(
        lb.port,
        '/page?x=1',
        i % 2 ? 'WEB.example:8080' : 'www.web.example',
      );
      expect(answer.status).toBe(200);
      expect(answer.json.app).toBe('/lbt/web');
      expect(answer.json.path).toBe('/page?x=1');
      seen.add(answer.json.task as string);
    }
    expect(seen.size).toBe(2);
    const api = await get(lb.port, '/api/users', 'web.example');
    expect(api.json.app).toBe('/lbt/api');
    const headers = (await get(lb.port, '/', 'web.example')).json.headers;
    expect(headers).toMatchObject({
      host: 'web.example',
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'web.example',
      'x-forwarded-port': String(lb.port),
    });
    expect(headers.connection).not.toBe('close');
  });

  it('serves only the apps of its group, and nothing for unknown or hostile hosts', async () => {
    expect((await get(lb.port, '/', 'internal.example')).status).toBe(404);
    for (const host of [
      '__proto__',
      'constructor',
      'toString',
      'x'.repeat(2000),
      'web.example:notaport',
    ])
      expect((await get(lb.port, '/', host)).status).toBe(404);
    const internalLb = await startBalancer({
      master: { url: dev.url, token: viewToken },
      logger: silentLogger(),
      port: 0,
      host: '127.0.0.1',
      group: 'internal',
    });
    try {
      await internalLb.synced();
      expect((await get(internalLb.port, '/', 'internal.example')).json.app).toBe('/lbt/internal');
      expect((await get(internalLb.port, '/', 'web.example')).status).toBe(404);
    } finally {
      await internalLb.stop();
    }
  });

  it('listens on the service port of each app', async () => {
    const info = (await dev.call('GET', '/v2/apps/lbt/api')).body.app;
    const servicePort = info.portDefinitions[0].port as number;
    await waitFor(
      'the service port listener',
      async () =>
        (await get(servicePort, '/x', 'anything').catch(() => undefined))?.json?.app === '/lbt/api',
    );
  });

  it('joins a TCP service port to a task in tcp mode', async () => {
    const info = (await dev.call('GET', '/v2/apps/lbt/tcp')).body.app;
    const servicePort = info.portDefinitions[0].port as number;
    const raw = 'GET /raw HTTP/1.1\r\nHost: anything\r\nConnection: close\r\n\r\n';
    const answer = await waitFor('an answer over the tcp listener', async () => {
      // Refused while the listener is not up yet: asked again.
      const text = await exchange(servicePort, raw).catch(() => '');
      return text.includes('"app":"/lbt/tcp"') ? text : undefined;
    });
    // Bytes pass untouched: no X-Forwarded-* is added in tcp mode.
    expect(answer).toContain('"path":"/raw"');
    expect(answer).not.toContain('x-forwarded-for');
  });

  it('shows routes and backends on the status page and counts requests in the metrics', async () => {
    const status = (await get(lb.port, '/_pacer/lb/status', 'whatever')).json;
    const web = status.routes.find((r: { appId: string }) => r.appId === '/lbt/web');
    expect(web).toMatchObject({
      mode: 'http',
      vhosts: ['web.example', 'www.web.example'],
      path: '/',
    });
    expect(web.backends).toHaveLength(2);
    expect(status.eventStream.connected).toBe(true);
    expect(status.routes.map((r: { appId: string }) => r.appId)).not.toContain('/lbt/internal');
    const metrics = (await get(lb.port, '/_pacer/lb/metrics', 'whatever')).text;
    expect(metrics).toMatch(/pacer_lb_requests_total\{app="\/lbt\/web",status="200"\} \d+/);
    expect(metrics).toContain('pacer_lb_backends{app="/lbt/web"} 2');
    expect(metrics).toContain('pacer_lb_upstream_latency_seconds_bucket{app="/lbt/web",le="+Inf"}');
  });

  it('takes an unhealthy task out of the rotation', async () => {
    const [sick, well] = await dev.healthyTasks('/lbt/web', 2);
    const sickPort = sick!.ports[0]!;
    // Make one task fail its health check, straight on its own port.
    expect((await request(`http://127.0.0.1:${sickPort}/sick`)).statusCode).toBe(200);
    await waitFor('the sick task out of rotation', () => {
      const backends = lb.table().matchVhost('web.example', '/')?.backends ?? [];
      return backends.length === 1 && backends[0]?.taskId === well!.id;
    });
    for (let i = 0; i < 6; i += 1)
      expect((await get(lb.port, '/', 'web.example')).json.task).toBe(well!.id);
    const status = (await get(lb.port, '/_pacer/lb/status', 'x')).json;
    expect(
      status.routes.find((r: { appId: string }) => r.appId === '/lbt/web').backends,
    ).toHaveLength(1);
  }, 30_000);

  it('resumes a cut event stream with Last-Event-ID and re-reads what it missed', async () => {
    // The balancer reaches the master through a TCP relay the test can cut.
    const sent: string[] = [];
    let isCut = false;
    const sockets = new Set<net.Socket>();
    const masterPort = Number(new URL(dev.url).port);
    const relay = net.createServer((socket) => {
      if (isCut) return void socket.destroy();
      const upstream = net.connect(masterPort, '127.0.0.1');
      sockets.add(socket);
      socket.on('data', (chunk) => sent.push(chunk.toString('latin1')));
      socket.pipe(upstream).pipe(socket);
      const end = () => {
        sockets.delete(socket);
        socket.destroy();
        upstream.destroy();
      };
      socket.on('close', end).on('error', end);
      upstream.on('close', end).on('error', end);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const relayUrl = `http://127.0.0.1:${(relay.address() as net.AddressInfo).port}`;
    const followed = await startBalancer({
      master: { url: relayUrl, token: viewToken },
      logger: silentLogger(),
      port: 0,
      host: '127.0.0.1',
      group: 'external',
    });
    try {
      await waitFor(
        'the api route',
        () => followed.table().matchVhost('web.example', '/api')?.backends.length === 1,
      );
      await waitFor(
        'an event seen',
        () => (followed.status() as any).eventStream.lastEventId !== null,
      );
      isCut = true;
      for (const socket of sockets) socket.destroy();
      await waitFor('the stream lost', () => !(followed.status() as any).eventStream.connected);
      const lastId = (followed.status() as any).eventStream.lastEventId as number;
      // While it is cut, the api app scales up: the balancer hears nothing of it.
      expect((await dev.call('PUT', '/v2/apps/lbt/api', { instances: 2 })).status).toBe(200);
      await dev.healthyTasks('/lbt/api', 2);
      expect(followed.table().matchVhost('web.example', '/api')?.backends).toHaveLength(1);
      isCut = false;
      await waitFor(
        'both api tasks after the reconnect',
        () => followed.table().matchVhost('web.example', '/api')?.backends.length === 2,
        30_000,
      );
      expect((followed.status() as any).eventStream.connects).toBeGreaterThanOrEqual(2);
      // The reconnect asked for the events after the last one it had seen.
      expect(sent.join('')).toMatch(new RegExp(`last-event-id: ${lastId}\\r\\n`, 'i'));
    } finally {
      await followed.stop();
      relay.close();
      for (const socket of sockets) socket.destroy();
    }
  }, 90_000);

  it('runs as `pacer lb` with a view-only PACER_TOKEN, and is refused with no token', async () => {
    const { freePort } = await import('./support/cluster.js');
    const port = await freePort();
    const cli = startPacer(['lb', '--port', String(port), '--host', '127.0.0.1'], {
      PACER_MASTER_URL: dev.url,
      PACER_TOKEN: viewToken,
      PACER_CONFIG: '/nonexistent/pacer.json',
    });
    try {
      const answer = await waitFor(
        'pacer lb to route',
        async () => {
          const got = await get(port, '/api/x', 'web.example').catch(() => undefined);
          return got?.status === 200 ? got : undefined;
        },
        30_000,
      );
      expect(answer.json.app).toBe('/lbt/api');
    } finally {
      await cli.stop();
    }
    const noToken = startPacer(['lb', '--port', String(port), '--host', '127.0.0.1'], {
      PACER_MASTER_URL: dev.url,
      PACER_TOKEN: '',
      PACER_CONFIG: '/nonexistent/pacer.json',
    });
    try {
      await waitFor('a refusal logged', () => /answered 401/.test(noToken.output()), 30_000);
      expect((await get(port, '/api/x', 'web.example')).status).toBe(404);
    } finally {
      await noToken.stop();
    }
  }, 60_000);
});
