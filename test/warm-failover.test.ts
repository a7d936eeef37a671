// Warm failover end to end: two real `pacer master` processes on Postgres and Redis (warm
// standbys, the default), writes through the API up to the moment the leader is killed with
// SIGKILL; the standby takes over from its warm copy, and what it then serves equals what a
// master loading the store cold serves, and holds every write that was answered 2xx.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiClient,
  freePort,
  prepareCluster,
  startPacer,
  waitFor,
  waitForApi,
  type ClusterSetup,
  type PacerProcess,
} from './support/cluster.js';
import { hasService } from './support/services.js';

const hasServices = (await hasService('postgres')) && (await hasService('redis'));

describe.skipIf(!hasServices)('a warm standby taking over from a killed leader', () => {
  let cluster: ClusterSetup;
  const started: PacerProcess[] = [];

  function startMaster(port: number, env: Record<string, string> = {}) {
    const url = `http://127.0.0.1:${port}`;
    const proc = startPacer(['master', '--host', '127.0.0.1', '--port', String(port)], {
      ...cluster.env,
      PACER_PUBLIC_URL: url,
      LOG_LEVEL: 'info',
      ...env,
    });
    started.push(proc);
    return { url, proc, api: apiClient(url) };
  }

  /** What a master serves of the state: apps (sorted), deployments, weights. */
  async function servedBy(api: ReturnType<typeof apiClient>) {
    const apps = (await api.get<{ apps: { id: string }[] }>('/v2/apps')).body.apps;
    const deployments = (await api.get<unknown[]>('/v2/deployments')).body;
    const weights = (await api.get('/v2/weights')).body as unknown;
    return { apps: [...apps].sort((a, b) => a.id.localeCompare(b.id)), deployments, weights };
  }

  beforeAll(async () => {
    cluster = await prepareCluster();
  });
  afterAll(async () => {
    await Promise.all(started.map((p) => p.stop({ hard: true })));
    await cluster?.db.drop();
  });

  it('serves what a cold load serves, with every acknowledged write', async () => {
    const first = startMaster(cluster.port);
    await waitForApi(first.url, first.proc);
    await waitFor('the first master to lead', async () => {
      const ping = await fetch(`${first.url}/ping`);
      return ping.headers.get('x-marathon-leader') === first.url;
    });
    const second = startMaster(await freePort());
    await waitForApi(second.url, second.proc);
    await waitFor('the standby to hold its warm copy', () =>
      second.proc.output().includes('standby state read whole'),
    );

    // Writes through the leader: creates, updates, deletes, weights.
    const acknowledged = new Map<string, string | undefined>();
    const create = async (n: number) => {
      const id = `/warm/app-${n}`;
      const answer = await first.api.post('/v2/apps', { id, cmd: `v1-${n}.wasm`, instances: 0 });
      expect(answer.status).toBe(201);
      acknowledged.set(id, `v1-${n}.wasm`);
    };
    for (let n = 0; n < 30; n++) await create(n);
    for (let n = 0; n < 30; n += 3) {
      const id = `/warm/app-${n}`;
      const answer = await first.api.put(`/v2/apps${id}`, { cmd: `v2-${n}.wasm`, instances: 0 });
      expect(answer.status).toBe(200);
      acknowledged.set(id, `v2-${n}.wasm`);
    }
    for (let n = 1; n < 30; n += 5) {
      const id = `/warm/app-${n}`;
      expect((await first.api.delete(`/v2/apps${id}`)).status).toBe(200);
      acknowledged.delete(id);
    }
    expect((await first.api.put('/v2/weights/batch', { weight: 3 })).status).toBe(200);
    // The last moments: written within a refresh interval of the kill (1 s), so the standby
    // most likely reads them only in its take-over.
    await Promise.all(Array.from({ length: 10 }, (_, n) => create(100 + n)));
    expect((await first.api.delete('/v2/apps/warm/app-0')).status).toBe(200);
    acknowledged.delete('/warm/app-0');
    await first.proc.stop({ hard: true });

    await waitFor(
      'the standby to take over',
      async () => (await second.api.get('/v2/leader').catch(() => undefined))?.status === 200,
      30_000,
    );
    expect(second.proc.output()).toContain('state taken over from the warm standby copy');
    // Deployments of the last writes may still be finishing: wait until none runs.
    await waitFor('no deployment running', async () => {
      const answer = await second.api.get<unknown[]>('/v2/deployments');
      return answer.status === 200 && answer.body.length === 0;
    });
    const warm = await servedBy(second.api);
    expect(new Map(warm.apps.map((a) => [a.id, (a as { cmd?: string }).cmd]))).toEqual(
      acknowledged,
    );

    // A master that loads the store cold, alone, serves the same.
    await second.proc.stop();
    const cold = startMaster(await freePort(), { PACER_STANDBY_REFRESH_MS: '0' });
    await waitForApi(cold.url, cold.proc);
    await waitFor(
      'the cold master to lead',
      async () => (await cold.api.get('/v2/leader').catch(() => undefined))?.status === 200,
      30_000,
    );
    expect(cold.proc.output()).toContain('"msg":"state loaded"');
    expect(await servedBy(cold.api)).toEqual(warm);
  }, 180_000);
});
