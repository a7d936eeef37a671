// Zero downtime through `pacer lb`: a rolling restart of 4 command tasks under steady load
// (some requests in flight for a while when their task is told to stop) fails no request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/lib/index.js';
import { startBalancer, type Balancer } from '../src/lb/index.js';
import { waitFor } from './support/cluster.js';
import { backendApp } from './support/lb-backend.js';
import { startLbDev, type LbDev } from './support/lb-dev.js';
import { restartUnderLoad, startLoad } from './support/lb-load.js';
import { hasCommand } from './support/services.js';

const ok = await hasCommand('bwrap', ['--version']);

describe.skipIf(!ok)('a rolling restart through pacer lb', () => {
  let dev: LbDev;
  let lb: Balancer;

  beforeAll(async () => {
    dev = await startLbDev();
    const token = await dev.token('lb', [{ path: '/', actions: ['view'] }]);
    const app = backendApp(
      '/zdd/svc',
      { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'svc.example' },
      { instances: 4 },
    );
    expect((await dev.call('POST', '/v2/apps', app)).status).toBe(201);
    await dev.healthyTasks('/zdd/svc', 4);
    lb = await startBalancer({
      master: { url: dev.url, token },
      logger: silentLogger(),
      port: 0,
      host: '127.0.0.1',
      group: 'external',
    });
    await waitFor(
      '4 backends',
      () => lb.table().matchVhost('svc.example', '/')?.backends.length === 4,
    );
  }, 120_000);

  afterAll(async () => {
    await lb?.stop();
    await dev?.stop();
  }, 60_000);

  it('loses no request while 4 instances are replaced one by one', async () => {
    const before = new Set((await dev.healthyTasks('/zdd/svc', 4)).map((t) => t.id));
    // Every fifth request takes 300 ms: some are in flight on a task when it is told to stop.
    const load = startLoad({
      url: `http://127.0.0.1:${lb.port}`,
      host: 'svc.example',
      workers: 8,
      path: (n) => (n % 5 === 0 ? '/?ms=300' : '/'),
    });
    const result = await restartUnderLoad({
      dev,
      lb,
      load,
      appId: '/zdd/svc',
      host: 'svc.example',
      instances: 4,
      before,
      timeoutMs: 120_000,
    });
    const answeredByOld = [...result.tasks].filter((t) => before.has(t)).length;
    expect(answeredByOld).toBe(4);
    expect(result.tasks.size).toBe(8);
    expect({ failed: result.failed, reasons: Object.fromEntries(result.reasons) }).toEqual({
      failed: 0,
      reasons: {},
    });
    expect(result.ok).toBeGreaterThan(100);
  }, 180_000);
});
