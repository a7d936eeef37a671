// `pacer lb` from an attacker's side, on a real `pacer dev` with a command task behind it:
// request smuggling, slow and oversized headers, absolute-form targets, too many connections,
// a backend that never answers, and an app that claims another app's host.
import net from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/lib/index.js';
import { startBalancer, type Balancer } from '../src/lb/index.js';
import { waitFor } from './support/cluster.js';
import { backendApp } from './support/lb-backend.js';
import { exchange } from './support/socket-exchange.js';
import { startLbDev, type LbDev } from './support/lb-dev.js';
import { hasCommand } from './support/services.js';

const ok = await hasCommand('bwrap', ['--version']);
const MAX_CONNECTIONS = 20;

describe.skipIf(!ok)('pacer lb under attack', () => {
  let dev: LbDev;
  let lb: Balancer;

  async function requestsOfWeb(): Promise<number> {
    const metrics = await (
      await request(`http://127.0.0.1:${lb.port}/_pacer/lb/metrics`)
    ).body.text();
    return [
      ...metrics.matchAll(/^pacer_lb_requests_total\{app="\/atk\/web",status="\d+"\} (\d+)$/gm),
    ].reduce((sum, m) => sum + Number(m[1]), 0);
  }

  beforeAll(async () => {
    dev = await startLbDev();
    const token = await dev.token('lb', [{ path: '/', actions: ['view'] }]);
    const web = backendApp('/atk/web', {
      HAPROXY_GROUP: 'external',
      HAPROXY_0_VHOST: 'web.example',
    });
    expect((await dev.call('POST', '/v2/apps', web)).status).toBe(201);
    await dev.healthyTasks('/atk/web', 1);
    lb = await startBalancer({
      master: { url: dev.url, token },
      logger: silentLogger(),
      port: 0,
      host: '127.0.0.1',
      group: 'external',
      upstreamTimeoutMs: 1_000,
      headersTimeoutMs: 1_000,
      maxConnections: MAX_CONNECTIONS,
    });
    await waitFor(
      'the web backend',
      () => lb.table().matchVhost('web.example', '/')?.backends.length === 1,
    );
  }, 120_000);

  afterAll(async () => {
    await lb?.stop();
    await dev?.stop();
  }, 60_000);

  it('refuses Transfer-Encoding with Content-Length, and the smuggled request reaches no backend', async () => {
    const before = await requestsOfWeb();
    const answer = await exchange(
      lb.port,
      'POST / HTTP/1.1\r\nHost: web.example\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' +
        'GET /smuggled HTTP/1.1\r\nHost: web.example\r\n\r\n',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer.match(/HTTP\/1\.1/g)).toHaveLength(1);
    expect(await requestsOfWeb()).toBe(before);
  });

  it('closes a connection whose headers come too slowly (slowloris)', async () => {
    const socket = net.connect(lb.port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write('GET / HTTP/1.1\r\nHost: web.example\r\n');
    // A header line every 200 ms, never the end of the headers.
    let n = 0;
    const drip = setInterval(() => socket.writable && socket.write(`x-drip-${n++}: 1\r\n`), 200);
    try {
      await waitFor(
        'the balancer to close the slow connection',
        async () => {
          await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 50))]);
          return socket.destroyed || socket.readableEnded;
        },
        10_000,
      );
    } finally {
      clearInterval(drip);
      socket.destroy();
    }
    expect(received).toMatch(/^HTTP\/1\.1 408 |^$/);
  });

  it('answers 431 to headers that are too big, 400 to an absolute-form target', async () => {
    expect(
      await exchange(lb.port, `GET / HTTP/1.1\r\nHost: ${'a'.repeat(20_000)}\r\n\r\n`),
    ).toMatch(/^HTTP\/1\.1 431 /);
    expect(
      await exchange(
        lb.port,
        'GET http://169.254.169.254/ HTTP/1.1\r\nHost: web.example\r\nConnection: close\r\n\r\n',
      ),
    ).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('answers 504 when the backend never answers', async () => {
    const answer = await request(`http://127.0.0.1:${lb.port}/hang`, {
      headers: { host: 'web.example' },
    });
    expect(answer.statusCode).toBe(504);
    await answer.body.text();
    // The balancer still serves afterwards.
    const next = await request(`http://127.0.0.1:${lb.port}/`, {
      headers: { host: 'web.example' },
    });
    expect(next.statusCode).toBe(200);
    await next.body.text();
  });

  it('holds at most its connection limit open', async () => {
    const sockets: net.Socket[] = [];
    let closedEarly = 0;
    try {
      for (let i = 0; i < MAX_CONNECTIONS * 2; i += 1) {
        const socket = net.connect(lb.port, '127.0.0.1');
        socket.on('error', () => {});
        socket.on('close', () => (closedEarly += 1));
        sockets.push(socket);
      }
      await waitFor(
        'the connections beyond the limit closed',
        () => closedEarly >= MAX_CONNECTIONS,
      );
      // Earlier tests' keep-alive connections count against the limit too.
      const open = sockets.filter((socket) => !socket.destroyed).length;
      expect(open).toBeLessThanOrEqual(MAX_CONNECTIONS);
      expect(open).toBeGreaterThan(0);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  });

  it('keeps a host with its owner when a newer app in the group claims it, and says so', async () => {
    const hijack = backendApp('/atk/a-hijack', {
      HAPROXY_GROUP: 'external',
      HAPROXY_0_VHOST: 'WEB.example,__proto__,bad host,constructor',
    });
    expect((await dev.call('POST', '/v2/apps', hijack)).status).toBe(201);
    await dev.healthyTasks('/atk/a-hijack', 1);
    await waitFor(
      'the hijacker routed on its own hosts',
      () => lb.table().matchVhost('__proto__', '/')?.appId === '/atk/a-hijack',
    );
    expect(lb.table().matchVhost('web.example', '/')?.appId).toBe('/atk/web');
    const status = (await (
      await request(`http://127.0.0.1:${lb.port}/_pacer/lb/status`)
    ).body.json()) as any;
    expect(status.conflicts).toEqual([
      { claim: 'vhost web.example /', winner: '/atk/web', loser: '/atk/a-hijack' },
    ]);
    expect(JSON.stringify(status.problems)).toContain("'bad host' is not a host name");
    const answer = await request(`http://127.0.0.1:${lb.port}/`, {
      headers: { host: 'web.example' },
    });
    expect(((await answer.body.json()) as { app: string }).app).toBe('/atk/web');
  }, 90_000);
});
