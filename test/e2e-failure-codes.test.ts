// Every failure code of DESIGN.md, end to end through the HTTP API of `pacer dev`: a module is
// uploaded, deployed as a Marathon app, and the reason shows in lastTaskFailure (or, for KILLED,
// in the status_update_event of the event stream).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  apiClient,
  followStatusEvents,
  freePort,
  startPacer,
  tempDir,
  waitFor,
  waitForApi,
  type PacerProcess,
  type StatusEvent,
} from './support/cluster.js';

describe('failure codes through pacer dev', () => {
  let dev: PacerProcess;
  let api: ReturnType<typeof apiClient>;

  beforeAll(async () => {
    const port = await freePort();
    api = apiClient(`http://127.0.0.1:${port}`);
    dev = startPacer(
      [
        'dev',
        '--port',
        String(port),
        '--host',
        '127.0.0.1',
        '--data-dir',
        await tempDir('pacer-codes'),
      ],
      {},
    );
    await waitForApi(api.url, dev);
  }, 60_000);

  afterEach(async () => {
    for (const app of (await api.get('/v2/apps')).body.apps as { id: string }[])
      await api.delete(`/v2/apps${app.id}?force=true`);
  });

  afterAll(async () => {
    await dev?.stop();
  });

  async function upload(name: string): Promise<string> {
    const bytes = await readFile(path.resolve(`wasm-tasks/build/${name}.wasm`));
    const res = await api.post('/v2/artifacts', new Uint8Array(bytes), {
      'content-type': 'application/wasm',
    });
    expect(res.status).toBe(201);
    return `${res.body.uri as string}/${name}.wasm`;
  }

  async function failureOf(
    id: string,
    module: string,
    extra: Record<string, unknown> = {},
  ): Promise<{ state: string; message: string; taskId: string }> {
    const uri = module.startsWith('http') ? module : await upload(module);
    const name = decodeURIComponent(uri.split('/').at(-1) as string);
    const created = await api.post('/v2/apps', {
      id,
      cpus: 0.1,
      mem: 16,
      fetch: [{ uri }],
      cmd: name,
      backoffSeconds: 60,
      ...extra,
    });
    expect(created.status).toBe(201);
    return waitFor(
      `lastTaskFailure of ${id}`,
      async () => (await api.get(`/v2/apps${id}`)).body.app.lastTaskFailure,
      30_000,
    );
  }

  const cases: [string, string, Record<string, unknown>, RegExp][] = [
    ['OUT_OF_FUEL', 'loop', { labels: { PACER_WASM_FUEL: '100000' } }, /^OUT_OF_FUEL: /],
    ['MEMORY_LIMIT', 'memory-bomb', { mem: 16 }, /^MEMORY_LIMIT: /],
    ['MEMORY_LIMIT before start', 'huge-memory', { mem: 16 }, /^MEMORY_LIMIT: /],
    [
      'TIMEOUT',
      'loop',
      { labels: { PACER_WASM_FUEL: '1000000000000', PACER_WASM_TIMEOUT_SECONDS: '1' } },
      /^TIMEOUT: /,
    ],
    ['TRAP', 'div-zero', {}, /^TRAP: .*divi/i],
    ['NONZERO_EXIT', 'exit-code', {}, /^NONZERO_EXIT: .*3/],
    ['INVALID_MODULE', 'garbage', {}, /^INVALID_MODULE: /],
    ['FORBIDDEN_IMPORT', 'forbidden-import', {}, /^FORBIDDEN_IMPORT: /],
  ];

  for (const [code, module, extra, pattern] of cases) {
    it(`reports ${code} for ${module}.wasm`, async () => {
      const failure = await failureOf(`/codes/${module}`, module, extra);
      expect(failure.state).toBe('TASK_FAILED');
      expect(failure.message).toMatch(pattern);
    });
  }

  it('reports the fuel an ended task used in its logs endpoint and as a metric', async () => {
    const failure = await failureOf('/codes/fuel', 'loop', {
      labels: { PACER_WASM_FUEL: '100000' },
    });
    const failed = await api.get(`/v2/tasks/${failure.taskId}/logs`);
    expect(failed.body.fuelUsed).toBe(100000);

    const uri = await upload('hello');
    const events = await followStatusEvents(api.url);
    const created = await api.post('/v2/apps', {
      id: '/codes/hello',
      instances: 2,
      cpus: 0.1,
      mem: 16,
      fetch: [{ uri }],
      cmd: 'hello.wasm metered',
      backoffSeconds: 600,
    });
    expect(created.status).toBe(201);
    const isFinishedHello = (e: StatusEvent) =>
      e.appId === '/codes/hello' && e.taskStatus === 'TASK_FINISHED';
    const finished = (await events.until((all) => all.filter(isFinishedHello).length >= 2)).filter(
      isFinishedHello,
    );
    expect(finished).toHaveLength(2);
    const used = await Promise.all(
      finished.map(
        async (e) => (await api.get(`/v2/tasks/${e.taskId}/logs`)).body.fuelUsed as number,
      ),
    );
    // Same module, same input: the same fuel on every run.
    expect(used[0]).toBeGreaterThan(0);
    expect(used[1]).toBe(used[0]);

    const metrics = await fetch(`${api.url}/metrics/prometheus`).then((r) => r.text());
    expect(metrics).toContain(
      `pacer_task_fuel_used_total{app_id="/codes/hello"} ${2 * (used[0] as number)}`,
    );
    expect(metrics).toContain('pacer_task_fuel_used_total{app_id="/codes/fuel"} 100000');
    expect(metrics).toContain(
      'pacer_tasks_ended_total{app_id="/codes/hello",state="TASK_FINISHED"} 2',
    );
  });

  it('reports FETCH_FAILED for a module whose digest does not match', async () => {
    const uri = `${api.url}/v2/artifacts/sha256:${'1'.repeat(64)}/missing.wasm`;
    const failure = await failureOf('/codes/missing', uri);
    expect(failure.message).toMatch(/^FETCH_FAILED: /);
  });

  it('reports KILLED when a running task is killed', async () => {
    const uri = await upload('service');
    expect(
      (
        await api.post('/v2/apps', {
          id: '/codes/killed',
          cpus: 0.1,
          mem: 16,
          fetch: [{ uri }],
          cmd: 'service.wasm',
        })
      ).status,
    ).toBe(201);
    const task = await waitFor('a running task', async () => {
      const tasks = (await api.get('/v2/apps/codes/killed/tasks')).body.tasks as {
        id: string;
        state: string;
      }[];
      return tasks.find((t) => t.state === 'TASK_RUNNING');
    });
    const events = await followStatusEvents(api.url);
    expect((await api.delete(`/v2/apps/codes/killed/tasks/${task.id}`)).status).toBe(200);
    const seen = await events.until((all) => all.some((e) => e.taskStatus === 'TASK_KILLED'));
    const killed = seen.find((e) => e.taskId === task.id && e.taskStatus === 'TASK_KILLED');
    expect(killed?.message).toMatch(/^KILLED: /);
  });
});
