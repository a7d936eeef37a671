// End to end through `pacer dev` with an agent that reserves resources to a role
// (`--resources cpus(web):1;cpus:1;…`): reserved resources go only to the role's apps, an app
// that accepts only its role stays off unreserved ones, and /v2/queue says why the rest wait.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiClient,
  freePort,
  portBlock,
  startPacer,
  tempDir,
  waitFor,
  type PacerProcess,
} from './support/cluster.js';

const SERVICE_WASM = path.resolve('wasm-tasks/build/service.wasm');
// Ports too: an app that accepts only its role takes only reserved ports (its port definition,
// Marathon's default one, needs one), as Mesos.
// This file's own ports (portBlock): the first ten unreserved, the next five web's.
const FIRST_PORT = Number(portBlock().split('-')[0]);
const RESOURCES =
  `cpus(web):1;cpus:1;mem(web):256;mem:256;disk:256;` +
  `ports(web):[${FIRST_PORT + 11}-${FIRST_PORT + 15}];ports:[${FIRST_PORT}-${FIRST_PORT + 10}]`;

describe('pacer dev with reservations', () => {
  let dev: PacerProcess;
  let api: ReturnType<typeof apiClient>;
  let uri: string;

  beforeAll(async () => {
    const dataDir = await tempDir('pacer-dev-roles');
    const port = await freePort();
    api = apiClient(`http://127.0.0.1:${port}`);
    dev = startPacer(
      ['dev', '--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir],
      { PACER_RESOURCES: RESOURCES },
    );
    // Migrating a fresh PGlite takes long on a loaded machine: wait longer than waitForApi does.
    await waitFor(
      'the API',
      async () => {
        if (dev.child.exitCode !== null) throw new Error(`pacer exited early:\n${dev.output()}`);
        return (await fetch(`${api.url}/ping`).catch(() => undefined))?.ok ?? false;
      },
      120_000,
    );
    const bytes = await readFile(SERVICE_WASM);
    const upload = await api.post('/v2/artifacts', new Uint8Array(bytes), {
      'content-type': 'application/wasm',
    });
    uri = `${upload.body.uri}/service.wasm`;
  }, 180_000);

  afterAll(async () => {
    await dev?.stop();
  });

  const tasksOf = async (id: string) =>
    ((await api.get(`/v2/apps${id}/tasks`)).body.tasks as { state: string }[]).length;
  const queued = async (id: string) => {
    const queue = (await api.get('/v2/queue')).body.queue as {
      app: { id: string };
      count: number;
      role: string;
      processedOffersSummary: { rejectSummaryLastOffers: { reason: string; declined: number }[] };
    }[];
    return queue.find((item) => item.app.id === id);
  };

  it('shows the reservation among the agent resources and keeps other roles off it', async () => {
    // The API answers before the agent's first offer: wait for it.
    await waitFor('the agent with its reservation', async () =>
      JSON.stringify((await api.get('/v2/agents')).body).includes('"role":"web"'),
    );
    const created = await api.post('/v2/apps', {
      id: '/other',
      instances: 4,
      cpus: 0.5,
      mem: 16,
      fetch: [{ uri }],
      cmd: 'service.wasm',
    });
    expect(created.status).toBe(201);
    await waitFor('2 of /other placed, 2 waiting for the role', async () => {
      const item = await queued('/other');
      const role = item?.processedOffersSummary.rejectSummaryLastOffers.find(
        (r) => r.reason === 'UnfulfilledRole',
      );
      return (await tasksOf('/other')) === 2 && item?.count === 2 && (role?.declined ?? 0) > 0;
    });
  });

  it("gives the role's app its reservation, and only that when it accepts only its role", async () => {
    const created = await api.post('/v2/apps', {
      id: '/web/api',
      role: 'web',
      acceptedResourceRoles: ['web'],
      instances: 3,
      cpus: 0.5,
      mem: 16,
      fetch: [{ uri }],
      cmd: 'service.wasm',
    });
    expect(created.status).toBe(201);
    await waitFor('2 of /web/api placed on the reservation, 1 waiting', async () => {
      const item = await queued('/web/api');
      return (await tasksOf('/web/api')) === 2 && item?.count === 1 && item.role === 'web';
    });
    // /other still waits: the reservation went to its role only.
    expect(await tasksOf('/other')).toBe(2);
  });

  it('holds a limit set through /v2/quota', async () => {
    const quota = await api.put('/v2/quota/web', { limits: { cpus: 1 } });
    expect(quota.status).toBe(200);
    // The third instance of /web/api still waits: now quota, not only resources, keeps it.
    await waitFor('the third /web/api instance waits for quota', async () => {
      const item = await queued('/web/api');
      const reason = item?.processedOffersSummary.rejectSummaryLastOffers.find(
        (r) => r.reason === 'InsufficientQuota',
      );
      return (reason?.declined ?? 0) > 0;
    });
    expect(await tasksOf('/web/api')).toBe(2);
  });
});
