// `pacer lb` in front of Wasm services on a real `pacer dev`: a socket-mode C service and a WAGI
// handler, each with its own `HAPROXY_0_VHOST`, answer through the balancer by host name.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/lib/index.js';
import { startBalancer, type Balancer } from '../src/lb/index.js';
import { waitFor } from './support/cluster.js';
import { startLbDev, type LbDev } from './support/lb-dev.js';

const client = new Agent({ connections: 4 });

async function get(port: number, pathname: string, host: string) {
  const response = await request(`http://127.0.0.1:${port}${pathname}`, {
    headers: { host },
    dispatcher: client,
  });
  return { status: response.statusCode, text: await response.body.text() };
}

/** A Wasm app served on its port 0, behind the balancer at `vhost`, health-checked over HTTP. */
function wasmApp(id: string, uri: string, vhost: string, extra: Record<string, unknown>) {
  return {
    id,
    cpus: 0.1,
    mem: 16,
    portDefinitions: [{ port: 0, protocol: 'tcp', name: 'http' }],
    fetch: [{ uri }],
    healthChecks: [{ protocol: 'HTTP', path: '/', portIndex: 0, intervalSeconds: 1 }],
    ...extra,
    labels: {
      HAPROXY_GROUP: 'external',
      HAPROXY_0_VHOST: vhost,
      ...(extra.labels as Record<string, string> | undefined),
    },
  };
}

describe('pacer lb in front of Wasm services', () => {
  let dev: LbDev;
  let lb: Balancer;

  beforeAll(async () => {
    dev = await startLbDev();
    const deployer = await dev.token('deployer', [
      { path: '/', actions: ['view', 'create', 'update', 'delete'] },
    ]);
    const uris = new Map<string, string>();
    for (const name of ['http-hello', 'wagi-hello']) {
      const bytes = await readFile(path.resolve(`wasm-tasks/build/${name}.wasm`));
      const upload = await fetch(`${dev.url}/v2/artifacts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${deployer}`, 'content-type': 'application/wasm' },
        body: new Uint8Array(bytes),
      });
      expect(upload.status).toBe(201);
      uris.set(name, `${((await upload.json()) as { uri: string }).uri}/${name}.wasm`);
    }
    const socket = wasmApp('/wasm/hello', uris.get('http-hello') as string, 'hello.example', {
      cmd: 'http-hello.wasm hi',
      env: { GREETING: 'edge' },
    });
    const wagi = wasmApp('/wasm/wagi', uris.get('wagi-hello') as string, 'wagi.example', {
      cmd: 'wagi-hello.wasm',
      env: { GREETING: 'cgi' },
      labels: { PACER_WASM_HTTP: 'wagi' },
    });
    for (const app of [socket, wagi])
      expect((await dev.call('POST', '/v2/apps', app)).status).toBe(201);
    await dev.healthyTasks('/wasm/hello', 1);
    await dev.healthyTasks('/wasm/wagi', 1);
    lb = await startBalancer({
      master: { url: dev.url, token: await dev.token('lb', [{ path: '/', actions: ['view'] }]) },
      logger: silentLogger(),
      port: 0,
      host: '127.0.0.1',
      group: 'external',
    });
    await waitFor(
      'both services in rotation',
      () =>
        lb.table().matchVhost('hello.example', '/')?.backends.length === 1 &&
        lb.table().matchVhost('wagi.example', '/')?.backends.length === 1,
    );
  }, 180_000);

  afterAll(async () => {
    await lb?.stop();
    await client.close();
    await dev?.stop();
  }, 60_000);

  it('routes hello.example to the socket-mode service and wagi.example to the WAGI handler', async () => {
    const hello = await get(lb.port, '/', 'hello.example');
    expect(hello).toEqual({ status: 200, text: 'hi edge\n' });
    const wagi = await get(lb.port, '/n/1?q=1', 'WAGI.example');
    expect(wagi.status).toBe(200);
    expect(wagi.text).toContain('path=/n/1\nquery=q=1\n');
    expect(wagi.text).toContain('greeting=cgi\n');
    expect((await get(lb.port, '/', 'nobody.example')).status).toBe(404);
  });
});
