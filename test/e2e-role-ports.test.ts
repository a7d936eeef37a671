// End to end through `pacer dev` with an agent that reserves a host port to a role
// (`--resources …;ports(web):[P-P];ports:[]`): the role's app gets that port and serves on it,
// an app of role `*` never does and waits in /v2/queue with Marathon's `UnfulfilledRole`.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { apiClient } from './support/cluster.js';
import { freePort, startDev, waitFor, type PacerProcess } from './support/cluster.js';

const HTTP_HELLO_WASM = path.resolve('wasm-tasks/build/http-hello.wasm');

interface Task {
  ports: number[];
  state: string;
}

describe('pacer dev with a port reserved to a role', () => {
  let dev: PacerProcess;
  let api: ReturnType<typeof apiClient>;
  let uri: string;
  // A port free on this machine now: the one port of `web`, and no unreserved port at all.
  let webPort: number;

  beforeAll(async () => {
    webPort = await freePort();
    const resources = `cpus:2;mem:512;disk:256;ports(web):[${webPort}-${webPort}];ports:[]`;
    ({ dev, api } = await startDev('pacer-dev-role-ports', {
      LOG_LEVEL: 'warn',
      PACER_RESOURCES: resources,
    }));
    const bytes = await readFile(HTTP_HELLO_WASM);
    const upload = await api.post('/v2/artifacts', new Uint8Array(bytes), {
      'content-type': 'application/wasm',
    });
    expect(upload.status).toBe(201);
    uri = `${upload.body.uri}/http-hello.wasm`;
  }, 180_000);

  afterAll(async () => {
    await dev?.stop();
  });

  const service = (id: string, extra: Record<string, unknown> = {}) => ({
    id,
    instances: 1,
    cpus: 0.1,
    mem: 16,
    portDefinitions: [{ port: 0, protocol: 'tcp', name: 'http' }],
    fetch: [{ uri }],
    cmd: 'http-hello.wasm hi',
    env: { GREETING: 'web' },
    ...extra,
  });
  const tasksOf = async (id: string) => (await api.get(`/v2/apps${id}/tasks`)).body.tasks as Task[];
  const roleRefusals = async (id: string) => {
    const queue = (await api.get('/v2/queue')).body.queue as {
      app: { id: string };
      count: number;
      processedOffersSummary: { rejectSummaryLastOffers: { reason: string; declined: number }[] };
    }[];
    const item = queue.find((entry) => entry.app.id === id);
    const reasons = item?.processedOffersSummary.rejectSummaryLastOffers ?? [];
    return {
      count: item?.count ?? 0,
      role: reasons.find((r) => r.reason === 'UnfulfilledRole')?.declined ?? 0,
      ports: reasons.find((r) => r.reason === 'InsufficientPorts')?.declined ?? 0,
    };
  };

  it("shows the port among web's reserved resources", async () => {
    type Agents = { agents: { reservations?: { role: string; ports?: string[] }[] }[] };
    // The API answers before the agent's first offer: wait for it.
    const agents = await waitFor('the agent', async () => {
      const list = ((await api.get('/v2/agents')).body as Agents).agents;
      return list.length > 0 ? list : false;
    });
    expect(agents[0]?.reservations).toEqual([
      expect.objectContaining({ role: 'web', ports: [`${webPort}-${webPort}`] }),
    ]);
  });

  it("keeps an app of role '*' off the reserved port: it waits for the role", async () => {
    expect((await api.post('/v2/apps', service('/other'))).status).toBe(201);
    await waitFor('/other waiting with UnfulfilledRole', async () => {
      const refusals = await roleRefusals('/other');
      return refusals.count === 1 && refusals.role > 0 && refusals.ports === 0;
    });
    expect(await tasksOf('/other')).toEqual([]);
  });

  it('gives the web app the reserved port, and it serves there', async () => {
    const created = await api.post('/v2/apps', service('/web/api', { role: 'web' }));
    expect(created.status).toBe(201);
    const task = await waitFor(
      '/web/api running',
      async () => (await tasksOf('/web/api')).find((t) => t.state === 'TASK_RUNNING') ?? false,
      60_000,
    );
    expect(task.ports).toEqual([webPort]);
    const answer = await waitFor('an answer on the reserved port', async () => {
      const response = await fetch(`http://127.0.0.1:${webPort}/`).catch(() => undefined);
      return response?.ok ? response.text() : false;
    });
    expect(answer).toBe('hi web\n');
    // /other still waits: the port went to its role only.
    expect(await tasksOf('/other')).toEqual([]);
    expect((await roleRefusals('/other')).count).toBe(1);
  }, 90_000);

  it("counts the running task's port out of web's pool: a second web instance waits", async () => {
    const scaled = await api.put('/v2/apps/web/api', { instances: 2 });
    expect(scaled.status).toBe(200);
    // No port is left anywhere (the one web port is held): InsufficientPorts, not the role.
    await waitFor('the second /web/api instance waiting for a port', async () => {
      const refusals = await roleRefusals('/web/api');
      return refusals.count === 1 && refusals.ports > 0 && refusals.role === 0;
    });
    expect((await tasksOf('/web/api')).map((t) => t.ports)).toEqual([[webPort]]);
  });
});
