// `pacer lb` in front of Wasm services on a master and an agent over Postgres and Redis (not
// `pacer dev`): a socket-mode C service and a WAGI handler, each behind its `HAPROXY_0_VHOST`,
// answer through the balancer by host name.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/lib/index.js';
import { startBalancer, type Balancer } from '../src/lb/index.js';
import {
  agentPortRanges,
  prepareCluster,
  startPacer,
  tempDir,
  waitFor,
  waitForApi,
  type ClusterSetup,
  type PacerProcess,
} from './support/cluster.js';
import { hasService } from './support/services.js';

const ok = (await hasService('postgres')) && (await hasService('redis'));

describe.skipIf(!ok)('pacer lb on a master and an agent over Redis', () => {
  let setup: ClusterSetup;
  const processes: PacerProcess[] = [];
  let lb: Balancer;

  /** A Wasm app on its port 0 behind `vhost`, health-checked over HTTP. */
  function wasmApp(id: string, uri: string, vhost: string, extra: Record<string, unknown>) {
    return {
      id,
      cpus: 0.1,
      mem: 16,
      fetch: [{ uri }],
      portDefinitions: [{ port: 0, protocol: 'tcp', name: 'http' }],
      healthChecks: [{ protocol: 'HTTP', path: '/', portIndex: 0, intervalSeconds: 1 }],
      ...extra,
      labels: {
        HAPROXY_GROUP: 'external',
        HAPROXY_0_VHOST: vhost,
        ...(extra.labels as Record<string, string> | undefined),
      },
    };
  }

  beforeAll(async () => {
    setup = await prepareCluster({ PACER_OFFER_INTERVAL_MS: '300' });
    const { api, env, port } = setup;
    const master = startPacer(['master', '--port', String(port), '--host', '127.0.0.1'], env);
    processes.push(master);
    await waitForApi(api.url, master);
    // The agent's hostname is where the balancer reaches its tasks.
    const hostname = '127.0.0.1';
    processes.push(
      startPacer(
        [
          'agent',
          '--hostname',
          hostname,
          '--resources',
          `cpus:2,mem:512,disk:1024,ports:[${agentPortRanges()(hostname)}]`,
          '--work-dir',
          await tempDir('pacer-agent-lb'),
        ],
        env,
      ),
    );
    await waitFor('the agent', async () => {
      const res = await api.get('/v2/agents');
      return res.status === 200 && (res.body.agents as unknown[]).length === 1;
    });
    const uris = new Map<string, string>();
    for (const name of ['http-hello', 'wagi-hello']) {
      const bytes = await readFile(path.resolve(`wasm-tasks/build/${name}.wasm`));
      const res = await api.post('/v2/artifacts', new Uint8Array(bytes), {
        'content-type': 'application/wasm',
      });
      expect(res.status).toBe(201);
      uris.set(name, `${res.body.uri as string}/${name}.wasm`);
    }
    const apps = [
      wasmApp('/edge/hello', uris.get('http-hello') as string, 'hello.example', {
        cmd: 'http-hello.wasm hi',
        env: { GREETING: 'redis' },
      }),
      wasmApp('/edge/wagi', uris.get('wagi-hello') as string, 'wagi.example', {
        cmd: 'wagi-hello.wasm',
        env: { GREETING: 'cgi' },
        labels: { PACER_WASM_HTTP: 'wagi' },
      }),
    ];
    for (const app of apps) expect((await api.post('/v2/apps', app)).status).toBe(201);
    lb = await startBalancer({
      master: { url: api.url },
      logger: silentLogger(),
      port: 0,
      host: '127.0.0.1',
      group: 'external',
    });
    await waitFor(
      'both services healthy and in rotation',
      () =>
        lb.table().matchVhost('hello.example', '/')?.backends.length === 1 &&
        lb.table().matchVhost('wagi.example', '/')?.backends.length === 1,
      120_000,
    );
  }, 240_000);

  afterAll(async () => {
    await lb?.stop();
    await Promise.all(processes.map((p) => p.stop()));
    await setup?.db.drop();
  }, 60_000);

  it('routes each host name to its Wasm service: socket mode and WAGI', async () => {
    // undici's request, not fetch: fetch drops a Host header.
    const through = async (pathname: string, host: string) => {
      const r = await request(`http://127.0.0.1:${lb.port}${pathname}`, { headers: { host } });
      return { status: r.statusCode, text: await r.body.text() };
    };
    expect(await through('/', 'hello.example')).toEqual({ status: 200, text: 'hi redis\n' });
    const wagi = await through('/p?q=1', 'wagi.example');
    expect(wagi.status).toBe(200);
    expect(wagi.text).toContain('path=/p\nquery=q=1\n');
    expect(wagi.text).toContain('greeting=cgi\n');
    expect((await through('/', 'nobody.example')).status).toBe(404);
  });
});
