// Wasm services through the driver with real modules and real sockets: socket mode (the agent
// binds the task's ports, the module serves on preopened fds) and handler mode (WAGI, an
// instance per request), and the attacks on both: floods, huge buffers, a peer that never
// reads, a handler that loops, fds that are not the task's.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/lib/index.js';
import { createWasmDriver, type TaskSpec } from '../src/runtime/index.js';
import { resumableReady } from '../src/runtime/wasm/index.js';
import { sandboxWith, wasmTaskSpec } from '../wasm-tasks/fixtures.js';
import { waitFor } from './support/wait-for.js';

const driver = createWasmDriver({ logger: silentLogger(), poolSize: 2, bindHost: '127.0.0.1' });
// Unmetered: nothing is made resumable, so a service blocks a pooled thread of its own.
const pooled = createWasmDriver({
  logger: silentLogger(),
  poolSize: 2,
  bindHost: '127.0.0.1',
  shouldMeterFuel: false,
});
afterAll(() => Promise.all([driver.close(), pooled.close()]));

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let n = 0;
async function service(
  module: string,
  overrides: Partial<TaskSpec> & { args?: string[] } = {},
  on = driver,
): Promise<{ spec: TaskSpec; port: number; logs: string[] }> {
  const port = await freePort();
  const logs: string[] = [];
  const spec = wasmTaskSpec({
    module,
    taskId: `svc-${module}-${++n}`,
    sandboxDir: sandboxWith(module),
    ports: [port],
    onLog: (_stream, line) => void logs.push(line),
    ...overrides,
  });
  await on.start(spec);
  return { spec, port, logs };
}

async function get(port: number, path = '/', init: RequestInit = {}) {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, init);
  return { status: response.status, headers: response.headers, text: await response.text() };
}

describe('socket mode', () => {
  beforeAll(() => resumableReady(), 120_000);

  it('serves HTTP from a C module on its preopened listening socket, env and args reaching it', async () => {
    const { spec, port, logs } = await service('http-hello', {
      args: ['hi'],
      env: { GREETING: 'world' },
    });
    await waitFor('the service logs', () => logs.includes('listening on fd 3'));
    const first = await get(port);
    expect(first).toMatchObject({ status: 200, text: 'hi world\n' });
    // Keep-alive and several at once.
    const many = await Promise.all(Array.from({ length: 20 }, () => get(port)));
    expect(many.every((r) => r.text === 'hi world\n')).toBe(true);
    await driver.stop(spec.taskId);
    expect((await driver.wait(spec.taskId)).reason).toBe('KILLED');
    await expect(get(port)).rejects.toThrow();
  });
});

describe('socket mode attacks', () => {
  beforeAll(() => resumableReady(), 120_000);

  it('serves from a pooled thread too (a module that is not resident)', async () => {
    const { spec, port } = await service('http-hello', { env: { GREETING: 'pooled' } }, pooled);
    const answers = await Promise.all(Array.from({ length: 10 }, () => get(port)));
    expect(answers.every((r) => r.text === 'pooled\n')).toBe(true);
    await pooled.stop(spec.taskId);
    expect((await pooled.wait(spec.taskId)).reason).toBe('KILLED');
  });

  it('answers bad buffers, foreign fds, wrong socket kinds and double shutdowns with errnos', async () => {
    // Another task holding connections: its fds mean nothing to the attacker.
    const other = await service('http-hello');
    const keep = await get(other.port);
    expect(keep.status).toBe(200);
    const { spec, port } = await service('sock-attack');
    const client = net.connect({ port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    client.on('data', (d: Buffer) => chunks.push(d));
    const ended = new Promise((resolve) => client.on('end', resolve));
    client.write('12345');
    await ended;
    client.destroy();
    const r = [...Buffer.concat(chunks)];
    expect(r).toEqual([
      0, // accept (blocking, the task unwound while it waited)
      21, // recv into a 4 GiB buffer: EFAULT
      0, // recv into a 60,000-byte buffer
      5, // … took only the 5 bytes that came
      8, // send on fd 99: EBADF
      57, // recv on stdout: ENOTSOCK
      28, // accept on a connection: EINVAL
      28, // shutdown with bad flags: EINVAL
      0, // shutdown of the read side
      0, // … twice
    ]);
    expect((await driver.wait(spec.taskId)).state).toBe('TASK_FINISHED');
    expect((await get(other.port)).status).toBe(200);
  });

  it('resumes a resident sender blocked on a full window as its peer reads (net-host.test.ts: the bound)', async () => {
    const { spec, port } = await service('sock-flood');
    const client = net.connect({ port, host: '127.0.0.1' });
    client.pause();
    let received = 0;
    await new Promise((resolve) => client.on('connect', resolve));
    client.on('data', (d: Buffer) => (received += d.length));
    client.resume();
    await waitFor('64 MiB streamed', () => received > 64 * 1024 * 1024, 60_000);
    client.destroy();
    await driver.stop(spec.taskId);
    expect((await driver.wait(spec.taskId)).reason).toBe('KILLED');
  });

  it('keeps serving after a flood of idle connections is gone', async () => {
    const { port } = await service('http-hello');
    const flood = Array.from({ length: 400 }, () => {
      const s = net.connect({ port, host: '127.0.0.1' });
      s.on('error', () => undefined);
      return s;
    });
    await Promise.all(
      flood.map(
        (s) =>
          new Promise((resolve) =>
            s.connecting ? s.once('connect', resolve).once('close', resolve) : resolve(s),
          ),
      ),
    );
    flood.forEach((s) => s.destroy());
    const answer = await waitFor('an answer after the flood', () =>
      get(port).then((r) => r.status === 200 && r),
    );
    expect(answer.text).toBe('hello\n');
  });
});

describe('handler mode (WAGI)', () => {
  it('answers with the CGI environment, headers, status and body', async () => {
    const { spec, port } = await service('wagi-hello', {
      labels: { PACER_WASM_HTTP: 'wagi' },
      env: { GREETING: 'hey' },
    });
    const r = await get(port, '/a/b?x=1', {
      method: 'POST',
      body: 'twelve bytes',
      headers: { 'content-type': 'text/plain', 'user-agent': 'tester' },
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-handler')).toBe('wagi-hello');
    expect(Number(r.headers.get('x-pacer-fuel-used'))).toBeGreaterThan(0);
    expect(r.text).toContain('method=POST\npath=/a/b\nquery=x=1\n');
    expect(r.text).toContain(`server=127.0.0.1:${port}\n`);
    expect(r.text).toContain(`url=http://127.0.0.1:${port}/a/b?x=1\n`);
    expect(r.text).toContain(
      'agent=tester\ncontent_type=text/plain\ncontent_length=12\nbody_bytes=12\n',
    );
    expect(r.text).toContain('greeting=hey\n');
    expect(await get(port, '/status/418')).toMatchObject({ status: 418, text: 'status 418\n' });
    const redirect = await fetch(`http://127.0.0.1:${port}/redirect`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe('/elsewhere');
    // The task's fuel is its requests' (each answer says what it used).
    await driver.stop(spec.taskId);
    const exit = await driver.wait(spec.taskId);
    expect(exit.fuelUsed).toBeGreaterThan(Number(r.headers.get('x-pacer-fuel-used')));
    expect(exit.message).toContain('fuel used');
  });

  it('gives every request a fresh instance in fresh memory (pooled memories come back zeroed)', async () => {
    const { port } = await service('wagi-leftovers', { labels: { PACER_WASM_HTTP: 'wagi' } });
    // One at a time (each takes the memory the one before gave back), then many at once.
    for (let i = 0; i < 10; i++) expect((await get(port)).text).toBe('seen A00\n');
    const many = await Promise.all(Array.from({ length: 40 }, () => get(port)));
    expect(many.map((r) => r.text)).toEqual(many.map(() => 'seen A00\n'));
  });

  it('gives a looping request a 5xx while other requests keep answering', async () => {
    const { port } = await service('wagi-hello', {
      labels: { PACER_WASM_HTTP: 'wagi', PACER_WAGI_TIMEOUT_MS: '60000' },
      limits: { cpus: 0.1, memMiB: 16, diskMiB: 16, killGracePeriodMs: 0, fuel: 50_000_000n },
    });
    const looping = get(port, '/loop');
    const others = await Promise.all(Array.from({ length: 10 }, () => get(port, '/ok')));
    expect(others.every((r) => r.status === 200)).toBe(true);
    const stuck = await looping;
    expect(stuck.status).toBe(503);
    expect(stuck.text).toContain('fuel');
    expect((await get(port, '/after')).status).toBe(200);
  });

  it('gives a request past its time limit a 504', async () => {
    const { port } = await service('wagi-hello', {
      labels: { PACER_WASM_HTTP: 'wagi', PACER_WAGI_TIMEOUT_MS: '200' },
    });
    expect((await get(port, '/loop')).status).toBe(504);
    expect((await get(port, '/ok')).status).toBe(200);
  });

  it('refuses a body over the limit with 413 and drops headers past the count', async () => {
    const { port } = await service('wagi-hello', { labels: { PACER_WASM_HTTP: 'wagi' } });
    const big = await get(port, '/', { method: 'POST', body: new Uint8Array(2 * 1024 * 1024) });
    expect(big.status).toBe(413);
    const headers: Record<string, string> = {};
    for (let i = 0; i < 500; i++) headers[`x-h${i}`] = 'v';
    const many = await get(port, '/', { headers });
    expect(many.status).toBe(200);
  });
});
