// Prometheus metrics of a real `pacer dev` (prom-client, from memory): scraped before and after
// real activity — a deploy, a placement that fails, a Wasm task that ends, API calls — the
// master's and its agent's series change accordingly; raw paths never become labels.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiClient,
  freePort,
  startPacer,
  tempDir,
  waitFor,
  waitForApi,
  type PacerProcess,
} from './support/cluster.js';

const SERVICE_WASM = path.resolve('wasm-tasks/build/service.wasm');
const HELLO_WASM = path.resolve('wasm-tasks/build/hello.wasm');
const WAGI_WASM = path.resolve('wasm-tasks/build/wagi-hello.wasm');

/** The value of one series (exact name and labels as rendered), or undefined. */
function valueOf(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

describe('metrics of pacer dev', () => {
  let dev: PacerProcess;
  let api: ReturnType<typeof apiClient>;
  const scrape = async () => (await api.get<string>('/metrics/prometheus')).body;

  beforeAll(async () => {
    const dir = await tempDir('pacer-metrics');
    const port = await freePort();
    api = apiClient(`http://127.0.0.1:${port}`);
    dev = startPacer(['dev', '--port', String(port), '--data-dir', path.join(dir, 'data')], {
      PACER_OFFER_INTERVAL_MS: '200',
    });
    await waitForApi(api.url, dev);
  }, 60_000);

  afterAll(async () => {
    await dev?.stop();
  });

  async function upload(file: string, name: string): Promise<string> {
    const bytes = await readFile(file);
    const res = await api.post('/v2/artifacts', new Uint8Array(bytes), {
      'content-type': 'application/wasm',
    });
    return `${res.body.uri as string}/${name}`;
  }

  it('shows leadership, apps, instances, placements, passes and the agent changing with activity', async () => {
    const before = await scrape();
    expect(valueOf(before, 'pacer_leader')).toBe(1);
    expect(valueOf(before, 'pacer_leader_term')).toBeGreaterThanOrEqual(1);
    expect(valueOf(before, 'pacer_apps')).toBe(0);
    expect(valueOf(before, 'pacer_instances{condition="Running"}')).toBe(0);
    const placedBefore = valueOf(before, 'pacer_placements_total') ?? 0;
    const passesBefore = valueOf(before, 'pacer_scheduling_pass_duration_seconds_count') ?? 0;

    const uri = await upload(SERVICE_WASM, 'service.wasm');
    const created = await api.post('/v2/apps', {
      id: '/metrics/web',
      instances: 2,
      cpus: 0.1,
      mem: 16,
      fetch: [{ uri }],
      cmd: 'service.wasm 100',
    });
    expect(created.status).toBe(201);
    await waitFor('2 running tasks', async () => {
      const tasks = (await api.get('/v2/apps/metrics/web/tasks')).body.tasks as { state: string }[];
      return tasks.length === 2 && tasks.every((t) => t.state === 'TASK_RUNNING');
    });

    const agentId = ((await api.get('/v2/agents')).body.agents as { id: string }[])[0]?.id;
    const after = await waitFor('the agent reporting its two tasks', async () => {
      const text = await scrape();
      const series = `pacer_agent_tasks{agent="${agentId}",kind="wasm",state="TASK_RUNNING"}`;
      return valueOf(text, series) === 2 && text;
    });
    expect(valueOf(after, 'pacer_apps')).toBe(1);
    expect(valueOf(after, 'pacer_instances{condition="Running"}')).toBe(2);
    expect(valueOf(after, 'pacer_instances_wanted')).toBe(2);
    expect(valueOf(after, 'pacer_placements_total')).toBe(placedBefore + 2);
    expect(valueOf(after, 'pacer_scheduling_pass_duration_seconds_count')).toBeGreaterThan(
      passesBefore,
    );
    expect(valueOf(after, 'pacer_agents{state="active"}')).toBe(1);
    expect(valueOf(after, `pacer_agent_memory_bytes{agent="${agentId}"}`)).toBeGreaterThan(1e6);
    expect(valueOf(after, `pacer_agent_cpu_seconds{agent="${agentId}"}`)).toBeGreaterThan(0);
    // The module was fetched once into the agent's cache.
    expect(valueOf(after, `pacer_agent_fetch_cache_bytes{agent="${agentId}"}`)).toBeGreaterThan(0);
    expect(after).toMatch(/^pacer_bus_lag_seconds\{stream="agent:offers"\} [\d.e-]+$/m);
    expect(
      valueOf(
        after,
        'pacer_http_request_duration_seconds_count{route="/v2/apps",method="POST",status="201"}',
      ),
    ).toBe(1);
  }, 60_000);

  it('counts placement failures by reason and the launch queue', async () => {
    const failures = 'pacer_placement_failures_total{reason="InsufficientCpus"}';
    const failedBefore = valueOf(await scrape(), failures) ?? 0;
    const created = await api.post('/v2/apps', {
      id: '/metrics/huge',
      instances: 1,
      cpus: 1000,
      mem: 16,
      cmd: 'service.wasm 100',
    });
    expect(created.status).toBe(201);
    const text = await waitFor('a failure counted', async () => {
      const scraped = await scrape();
      return (
        (valueOf(scraped, failures) ?? 0) > failedBefore &&
        valueOf(scraped, 'pacer_launch_queue') === 1 &&
        scraped
      );
    });
    expect(valueOf(text, 'pacer_launch_queue')).toBe(1);
    expect(valueOf(text, 'pacer_deployments')).toBeGreaterThanOrEqual(1);
    expect((await api.delete('/v2/apps/metrics/huge?force=true')).status).toBe(200);
  }, 30_000);

  it('adds the fuel of an ended Wasm task to the agent', async () => {
    const agentId = ((await api.get('/v2/agents')).body.agents as { id: string }[])[0]?.id;
    const series = `pacer_agent_fuel_used{agent="${agentId}"}`;
    const before = valueOf(await scrape(), series) ?? 0;
    const uri = await upload(HELLO_WASM, 'hello.wasm');
    await api.post('/v2/apps', {
      id: '/metrics/hello',
      instances: 1,
      cpus: 0.1,
      mem: 16,
      fetch: [{ uri }],
      cmd: 'hello.wasm',
    });
    await waitFor('fuel reported', async () => (valueOf(await scrape(), series) ?? 0) > before);
    expect((await api.delete('/v2/apps/metrics/hello?force=true')).status).toBe(200);
  }, 30_000);

  it("counts a WAGI handler's requests, its 5xx and the fuel each used, with the agent label", async () => {
    const agentId = ((await api.get('/v2/agents')).body.agents as { id: string }[])[0]?.id;
    const at = (name: string) => `${name}{agent="${agentId}"}`;
    const before = valueOf(await scrape(), at('pacer_agent_handler_requests')) ?? 0;
    const uri = await upload(WAGI_WASM, 'wagi-hello.wasm');
    await api.post('/v2/apps', {
      id: '/metrics/wagi',
      instances: 1,
      cpus: 0.1,
      mem: 16,
      fetch: [{ uri }],
      cmd: 'wagi-hello.wasm',
      portDefinitions: [{ port: 0, protocol: 'tcp' }],
      labels: { PACER_WASM_HTTP: 'wagi' },
    });
    const task = await waitFor('the handler running', async () => {
      const tasks = (await api.get('/v2/apps/metrics/wagi/tasks')).body.tasks as {
        state: string;
        host: string;
        ports: number[];
      }[];
      return tasks.find((t) => t.state === 'TASK_RUNNING');
    });
    const url = `http://127.0.0.1:${task.ports[0]}`;
    await waitFor('the handler answering', () =>
      fetch(`${url}/`).then(
        (r) => r.ok,
        () => false,
      ),
    );
    for (const path of ['/a', '/b', '/status/503']) await (await fetch(`${url}${path}`)).text();
    const text = await waitFor('handler figures reported', async () => {
      const scraped = await scrape();
      return (valueOf(scraped, at('pacer_agent_handler_requests')) ?? 0) >= before + 4 && scraped;
    });
    const requests = valueOf(text, at('pacer_agent_handler_requests')) as number;
    expect(valueOf(text, at('pacer_agent_handler_requests_5xx'))).toBeGreaterThanOrEqual(1);
    expect(valueOf(text, at('pacer_agent_handler_request_fuel_sum'))).toBeGreaterThan(0);
    expect(
      valueOf(text, `pacer_agent_handler_request_fuel_bucket{agent="${agentId}",le="+Inf"}`),
    ).toBe(requests);
    expect((await api.delete('/v2/apps/metrics/wagi?force=true')).status).toBe(200);
  }, 60_000);

  it('labels requests by route template: paths a client invents add no series', async () => {
    for (let n = 0; n < 20; n++) {
      await api.get(`/no/such/path/${n}<img src=x>`);
      await api.get(`/v2/apps/metrics/invented-${n}`);
    }
    const text = await scrape();
    const routes = new Set(
      [...text.matchAll(/^pacer_http_request_duration_seconds_count\{route="([^"]*)"/gm)].map(
        (m) => m[1],
      ),
    );
    expect(routes.has('unmatched')).toBe(true);
    for (const route of routes) expect(route).not.toMatch(/invented|no\/such|img/);
    expect(routes.size).toBeLessThan(20);
  });
});
