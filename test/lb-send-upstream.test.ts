// sendUpstream (src/lb/send-upstream.ts) on an upstream pool, between a real client and a real backend, in process: a
// large answer arrives whole through backpressure with its repeated headers, a client that goes
// away mid-answer aborts the upstream request, and a header Node cannot write is a 502.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { upstreamRequest } from '../src/lb/forwarded-headers.js';
import { sendUpstream } from '../src/lb/send-upstream.js';
import { createUpstreamPool, type UpstreamPool } from '../src/lb/upstream-pool.js';
import { waitFor } from './support/wait-for.js';

const servers: http.Server[] = [];
const pools: UpstreamPool[] = [];

async function listen(handler: http.RequestListener): Promise<number> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A proxy that sends every request to `backendPort` and reports each outcome. */
async function proxyTo(backendPort: number, outcomes: { error?: string; isResponding: boolean }[]) {
  const pool = createUpstreamPool({
    host: '127.0.0.1',
    port: backendPort,
    maxConnections: 8,
    connectTimeoutMs: 2_000,
    upstreamTimeoutMs: 10_000,
    keepAliveTimeoutMs: 4_000,
  });
  pools.push(pool);
  return listen((req, res) => {
    void sendUpstream(pool, upstreamRequest(req, { address: '127.0.0.1', port: 80 }), {
      res,
      onHeaders: () => undefined,
    }).then(({ error, isResponding }) => {
      outcomes.push({ error: (error as { code?: string } | undefined)?.code, isResponding });
      if (error && !isResponding) {
        res.writeHead(502);
        res.end();
      }
    });
  });
}

afterEach(async () => {
  for (const pool of pools.splice(0)) pool.destroy();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

describe('sendUpstream', () => {
  it('passes a 16 MiB answer whole, with repeated headers in order and hop-by-hop ones dropped', async () => {
    const body = Buffer.alloc(16 * 1024 * 1024, 'x');
    const backend = await listen((_req, res) => {
      res.writeHead(200, [
        'Set-Cookie',
        'a=1',
        'Set-Cookie',
        'b=2',
        'Connection',
        'keep-alive, X-Hop',
        'X-Hop',
        '1',
        'Content-Length',
        String(body.length),
      ]);
      res.end(body);
    });
    const outcomes: { error?: string; isResponding: boolean }[] = [];
    const port = await proxyTo(backend, outcomes);
    const answer = await fetch(`http://127.0.0.1:${port}/`);
    expect(answer.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(answer.headers.get('x-hop')).toBeNull();
    expect(Buffer.from(await answer.arrayBuffer()).equals(body)).toBe(true);
    await waitFor('the outcome', () => outcomes.length === 1);
    expect(outcomes[0]).toEqual({ error: undefined, isResponding: true });
  });

  it('aborts the upstream request when the client goes away mid-answer', async () => {
    let isBackendClosed = false;
    const backend = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first part\n'); // and never the rest
      res.on('close', () => (isBackendClosed = true));
    });
    const outcomes: { error?: string; isResponding: boolean }[] = [];
    const port = await proxyTo(backend, outcomes);
    await new Promise<void>((resolve, reject) => {
      const request = http.get(`http://127.0.0.1:${port}/`, (response) => {
        response.once('data', () => {
          request.destroy();
          resolve();
        });
      });
      request.on('error', () => undefined);
      request.setTimeout(10_000, () => reject(new Error('no first part')));
    });
    await waitFor('the backend connection closed', () => isBackendClosed);
    expect(outcomes).toEqual([{ error: 'CLIENT_GONE', isResponding: true }]);
  });

  it('answers 502 when the backend sends a header value Node refuses to write', async () => {
    const net = await import('node:net');
    const raw = net.createServer((socket) => {
      socket.once('data', () =>
        socket.end('HTTP/1.1 200 OK\r\nX-Bad: a\x01b\r\nContent-Length: 2\r\n\r\nok'),
      );
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    try {
      const outcomes: { error?: string; isResponding: boolean }[] = [];
      const port = await proxyTo((raw.address() as AddressInfo).port, outcomes);
      const answer = await fetch(`http://127.0.0.1:${port}/`);
      expect(answer.status).toBe(502);
      expect(outcomes).toHaveLength(1);
      expect(outcomes[0]?.isResponding).toBe(false);
    } finally {
      raw.close();
    }
  });
});
