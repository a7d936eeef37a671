// The balancer's upstream pool (src/lb/upstream-pool.ts) against real backends on real sockets:
// keep-alive and draining, and hostile or broken answers (ambiguous framing, a huge head, an
// answer that never ends, a close mid-body, a 2^32 Content-Length, bad chunk sizes, a second
// answer to one request), none of which may reach the client as a complete response or poison
// the next request on the connection.
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Exchange, UpstreamRequest } from '../src/lb/upstream-connection.js';
import { createUpstreamPool, type UpstreamPool } from '../src/lb/upstream-pool.js';
import { waitFor } from './support/wait-for.js';

const servers: net.Server[] = [];
const pools: UpstreamPool[] = [];

afterEach(async () => {
  for (const pool of pools.splice(0)) pool.destroy();
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          if (server instanceof http.Server) server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

/**
 * A backend speaking raw bytes: `answer` is called for each request head it reads (bodies are
 * not read). Counts its connections.
 */
async function rawBackend(answer: (socket: net.Socket, head: string, n: number) => void) {
  const state = { connections: 0, requests: [] as string[], port: 0 };
  const server = net.createServer((socket) => {
    state.connections += 1;
    let buffered = '';
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
        const head = buffered.slice(0, end + 4);
        buffered = buffered.slice(end + 4);
        state.requests.push(head);
        answer(socket, head, state.requests.length);
      }
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as net.AddressInfo).port;
  return state;
}

function poolTo(port: number, options: { upstreamTimeoutMs?: number } = {}): UpstreamPool {
  const pool = createUpstreamPool({
    host: '127.0.0.1',
    port,
    maxConnections: 4,
    connectTimeoutMs: 2_000,
    upstreamTimeoutMs: options.upstreamTimeoutMs ?? 5_000,
    keepAliveTimeoutMs: 4_000,
  });
  pools.push(pool);
  return pool;
}

interface Answer {
  status?: number;
  headers?: string[];
  body: string;
  error?: string;
}

/** One request on `pool`; what came back. */
function send(pool: UpstreamPool, request: Partial<UpstreamRequest> = {}): Promise<Answer> {
  return new Promise((resolve) => {
    const answer: Answer = { body: '' };
    const exchange: Exchange = {
      request: {
        head: 'GET / HTTP/1.1\r\nHost: backend\r\n\r\n',
        body: null,
        isChunked: false,
        isHead: false,
        ...request,
      },
      onStart: () => undefined,
      onHead(head) {
        answer.status = head.statusCode;
        answer.headers = head.rawHeaders;
      },
      onBody(chunk) {
        answer.body += chunk.toString('latin1');
        return true;
      },
      onReadEnd: () => undefined,
      onComplete: () => resolve(answer),
      onError(error) {
        answer.error = (error as { code?: string }).code;
        resolve(answer);
      },
    };
    pool.dispatch(exchange);
  });
}

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

describe('upstream pool', () => {
  it('sends one request after another on one kept-alive connection', async () => {
    const backend = await rawBackend((socket) => socket.write(OK));
    const pool = poolTo(backend.port);
    for (let i = 0; i < 3; i += 1)
      expect(await send(pool)).toMatchObject({ status: 200, body: 'ok' });
    expect(backend.connections).toBe(1);
    expect(backend.requests[0]).toBe('GET / HTTP/1.1\r\nHost: backend\r\n\r\n');
  });

  it('refuses an answer with both Content-Length and Transfer-Encoding, and drops the connection', async () => {
    const backend = await rawBackend((socket, _head, n) =>
      socket.write(
        n === 1
          ? 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
          : OK,
      ),
    );
    const pool = poolTo(backend.port);
    const refused = await send(pool);
    expect(refused.error).toBe('UPSTREAM_BAD_RESPONSE');
    expect(refused.status).toBeUndefined();
    expect(await send(pool)).toMatchObject({ status: 200, body: 'ok' });
    expect(backend.connections).toBe(2);
  });

  it('never hands a second answer to one request to the next request', async () => {
    const backend = await rawBackend((socket, _head, n) =>
      socket.write(n === 1 ? `${OK}HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\npoisoned` : OK),
    );
    const pool = poolTo(backend.port);
    // The first answer itself was whole and is delivered; its connection is not used again.
    expect(await send(pool)).toMatchObject({ status: 200, body: 'ok' });
    expect(await send(pool)).toMatchObject({ status: 200, body: 'ok' });
    expect(backend.connections).toBe(2);
  });

  it('drops a connection that speaks while idle', async () => {
    const backend = await rawBackend((socket) => {
      socket.write(OK);
      setTimeout(() => socket.writable && socket.write(OK), 50);
    });
    const pool = poolTo(backend.port);
    expect(await send(pool)).toMatchObject({ body: 'ok' });
    await waitFor('the idle connection closed', () => pool.size() === 0);
  });

  it('refuses a head over 16 KiB', async () => {
    const backend = await rawBackend((socket) =>
      socket.write(
        `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\nContent-Length: 0\r\n\r\n`,
      ),
    );
    expect(await send(poolTo(backend.port))).toMatchObject({ error: 'UPSTREAM_BAD_RESPONSE' });
  });

  it('gives up on a backend that never answers, and on an answer that never ends', async () => {
    const silent = await rawBackend(() => undefined);
    const started = performance.now();
    expect(await send(poolTo(silent.port, { upstreamTimeoutMs: 300 }))).toMatchObject({
      error: 'UPSTREAM_HEADERS_TIMEOUT',
    });
    expect(performance.now() - started).toBeGreaterThanOrEqual(300);
    const endless = await rawBackend((socket) =>
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsome of it'),
    );
    expect(await send(poolTo(endless.port, { upstreamTimeoutMs: 300 }))).toMatchObject({
      status: 200,
      body: 'some of it',
      error: 'UPSTREAM_BODY_TIMEOUT',
    });
  });

  it('calls an answer cut mid-body incomplete, also past 2^32 bytes of Content-Length', async () => {
    const cut = await rawBackend((socket) =>
      socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsome of it'),
    );
    expect(await send(poolTo(cut.port))).toMatchObject({
      body: 'some of it',
      error: 'UPSTREAM_CLOSED_MID_BODY',
    });
    const huge = await rawBackend((socket) =>
      socket.end('HTTP/1.1 200 OK\r\nContent-Length: 4294967296\r\n\r\nok'),
    );
    const answer = await send(poolTo(huge.port));
    expect(answer).toMatchObject({ body: 'ok', error: 'UPSTREAM_CLOSED_MID_BODY' });
    expect(answer.headers).toEqual(['Content-Length', '4294967296']);
  });

  it.each([
    ['no number', 'zz'],
    ['negative', '-2'],
    ['over 2^64', 'fffffffffffffffff'],
  ])('refuses a chunk size that is %s', async (_name, size) => {
    const backend = await rawBackend((socket) =>
      socket.write(
        `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${size}\r\nok\r\n0\r\n\r\n`,
      ),
    );
    expect(await send(poolTo(backend.port))).toMatchObject({
      status: 200,
      body: '',
      error: 'UPSTREAM_BAD_RESPONSE',
    });
  });

  it('tells a refused connection, which sent nothing, from one closed before any answer', async () => {
    const closing = await rawBackend((socket) => socket.destroy());
    expect(await send(poolTo(closing.port))).toMatchObject({ error: 'UPSTREAM_CLOSED_EARLY' });
    const gone = await rawBackend(() => undefined);
    await new Promise<void>((resolve) => servers.pop()?.close(() => resolve()));
    expect(await send(poolTo(gone.port))).toMatchObject({ error: 'UPSTREAM_CONNECT_FAILED' });
  });

  it('reads a close-delimited answer whole and does not reuse its connection', async () => {
    const backend = await rawBackend((socket) =>
      socket.end('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end'),
    );
    const pool = poolTo(backend.port);
    expect(await send(pool)).toMatchObject({ status: 200, body: 'until the end' });
    expect(await send(pool)).toMatchObject({ status: 200, body: 'until the end' });
    expect(backend.connections).toBe(2);
  });

  it('reads no body after HEAD and skips an informational answer', async () => {
    const backend = await rawBackend((socket, head) =>
      socket.write(
        head.startsWith('HEAD')
          ? 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n'
          : `HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n${OK}`,
      ),
    );
    const pool = poolTo(backend.port);
    expect(
      await send(pool, { head: 'HEAD / HTTP/1.1\r\nHost: backend\r\n\r\n', isHead: true }),
    ).toMatchObject({ status: 200, body: '' });
    expect(await send(pool)).toMatchObject({ status: 200, body: 'ok' });
    expect(backend.connections).toBe(1);
  });

  it('sends a body with its length as is, and a chunked one chunked again', async () => {
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => res.end(`${req.headers['transfer-encoding'] ?? 'length'}:${body}`));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const pool = poolTo((server.address() as net.AddressInfo).port);
    const { Readable } = await import('node:stream');
    expect(
      await send(pool, {
        head: 'POST / HTTP/1.1\r\nHost: b\r\nContent-Length: 5\r\n\r\n',
        body: Readable.from([Buffer.from('he'), Buffer.from('llo')]),
      }),
    ).toMatchObject({ status: 200, body: 'length:hello' });
    expect(
      await send(pool, {
        head: 'POST / HTTP/1.1\r\nHost: b\r\nTransfer-Encoding: chunked\r\n\r\n',
        body: Readable.from([Buffer.from('chun'), Buffer.from('ked')]),
        isChunked: true,
      }),
    ).toMatchObject({ status: 200, body: 'chunked:chunked' });
  });

  it('drains on close: the exchange in flight finishes, new ones are refused as not sent', async () => {
    const backend = await rawBackend((socket) => setTimeout(() => socket.write(OK), 200));
    const pool = poolTo(backend.port);
    const inFlight = send(pool);
    await waitFor('the request sent', () => backend.requests.length === 1);
    const closed = pool.close();
    expect(await send(pool)).toMatchObject({ error: 'UPSTREAM_POOL_CLOSED' });
    expect(await inFlight).toMatchObject({ status: 200, body: 'ok' });
    await closed;
    expect(pool.size()).toBe(0);
  });

  it('queues past its connection limit and serves the queue as connections free up', async () => {
    const backend = await rawBackend((socket) => setTimeout(() => socket.write(OK), 50));
    const pool = poolTo(backend.port);
    const answers = await Promise.all(Array.from({ length: 10 }, () => send(pool)));
    expect(answers.every((a) => a.body === 'ok')).toBe(true);
    expect(backend.connections).toBe(4);
  });
});
