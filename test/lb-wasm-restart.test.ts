// Zero downtime for Wasm services through `pacer lb`: a rolling restart of 4 socket-mode Wasm
// instances under steady load fails no request. A Wasm task hears no SIGTERM, so it is the
// agent that drains it: TASK_KILLING first (the balancer takes it out of rotation at once), the
// task serving on through its kill grace period (its requests in flight finish), then the stop.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/lib/index.js';
import { startBalancer, type Balancer } from '../src/lb/index.js';
import { waitFor } from './support/cluster.js';
import { startLbDev, type LbDev } from './support/lb-dev.js';
import { restartUnderLoad, startLoad } from './support/lb-load.js';

describe('a rolling restart of Wasm services through pacer lb', () => {
  let dev: LbDev;
  let lb: Balancer;
  /** Task states the balancer's event stream carried, by task id. */
  const killing = new Set<string>();

  beforeAll(async () => {
    dev = await startLbDev();
    const deployer = await dev.token('deployer', [
      { path: '/', actions: ['view', 'create', 'update', 'delete'] },
    ]);
    const bytes = await readFile(path.resolve('wasm-tasks/build/http-hello.wasm'));
    const upload = await fetch(`${dev.url}/v2/artifacts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${deployer}`, 'content-type': 'application/wasm' },
      body: new Uint8Array(bytes),
    });
    expect(upload.status).toBe(201);
    const uri = `${((await upload.json()) as { uri: string }).uri}/http-hello.wasm`;
    const app = {
      id: '/zdd/wasm',
      instances: 4,
      cpus: 0.1,
      mem: 16,
      cmd: 'http-hello.wasm',
      env: { HELLO_JSON: '1' },
      fetch: [{ uri }],
      portDefinitions: [{ port: 0, protocol: 'tcp', name: 'http' }],
      healthChecks: [{ protocol: 'HTTP', path: '/', portIndex: 0, intervalSeconds: 1 }],
      taskKillGracePeriodSeconds: 2,
      labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'wasm.example' },
    };
    expect((await dev.call('POST', '/v2/apps', app)).status).toBe(201);
    await dev.healthyTasks('/zdd/wasm', 4);
    const token = await dev.token('lb', [{ path: '/', actions: ['view'] }]);
    lb = await startBalancer({
      master: { url: dev.url, token },
      logger: silentLogger(),
      port: 0,
      host: '127.0.0.1',
      group: 'external',
    });
    await waitFor(
      '4 backends',
      () => lb.table().matchVhost('wasm.example', '/')?.backends.length === 4,
    );
    // The master's events as any client sees them: TASK_KILLING must be among them.
    const events = await fetch(`${dev.url}/v2/events`, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    });
    const reader = (events.body as ReadableStream<Uint8Array>).getReader();
    void (async () => {
      const decoder = new TextDecoder();
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        for (const match of decoder
          .decode(r.value)
          .matchAll(
            /"taskId":"([^"]+)"[^\n]*"taskStatus":"TASK_KILLING"|"taskStatus":"TASK_KILLING"[^\n]*"taskId":"([^"]+)"/g,
          )) {
          killing.add((match[1] ?? match[2]) as string);
        }
      }
    })().catch(() => undefined);
    afterAll(() => reader.cancel());
  }, 180_000);

  afterAll(async () => {
    await lb?.stop();
    await dev?.stop();
  }, 60_000);

  it('loses no request while 4 Wasm instances are replaced one by one', async () => {
    const before = new Set((await dev.healthyTasks('/zdd/wasm', 4)).map((t) => t.id));
    const load = startLoad({
      url: `http://127.0.0.1:${lb.port}`,
      host: 'wasm.example',
      workers: 8,
    });
    const result = await restartUnderLoad({
      dev,
      lb,
      load,
      appId: '/zdd/wasm',
      host: 'wasm.example',
      instances: 4,
      before,
      timeoutMs: 150_000,
    });
    expect([...before].every((t) => killing.has(t))).toBe(true);
    expect([...result.tasks].filter((t) => before.has(t)).length).toBe(4);
    expect(result.tasks.size).toBe(8);
    expect({ failed: result.failed, reasons: Object.fromEntries(result.reasons) }).toEqual({
      failed: 0,
      reasons: {},
    });
    expect(result.ok).toBeGreaterThan(100);
  }, 200_000);
});
