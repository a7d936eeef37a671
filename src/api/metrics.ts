// Metrics: request counts and latencies kept by the API's edge, plus gauges read from the store
// at scrape time; `/metrics/prometheus` answers Prometheus text, `/metrics` Marathon-style JSON.
import { Hono } from 'hono';
import { Action, isActive } from '../domain/index.js';
import type { TaskCounter } from '../domain/index.js';
import { escapeLabel } from '../lib/index.js';
import { authorize } from './authorize.js';
import type { ApiDeps } from './deps.js';
import { defineRoutes, on } from './route.js';
import { json, media } from './route-docs.js';

const BUCKETS_MS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500] as const;

/** Request counts by method and status, and a latency histogram, filled by `record`. */
export interface RequestMetrics {
  /** Counts one answered request; called once per request by the API's edge (server.ts). */
  record(method: string, status: number, ms: number): void;
  /** Prometheus text of the request series. */
  render(): string;
  counts(): Record<string, number>;
}

export function createRequestMetrics(): RequestMetrics {
  const counts = new Map<string, number>();
  const buckets = BUCKETS_MS.map(() => 0);
  let count = 0;
  let sumMs = 0;
  return {
    record(method, status, ms) {
      const key = `method="${method}",status="${status}"`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      // Buckets are cumulative: every bound at or above the time counts it.
      for (let i = BUCKETS_MS.length - 1; i >= 0 && ms <= (BUCKETS_MS[i] as number); i--) {
        buckets[i] = (buckets[i] ?? 0) + 1;
      }
      count++;
      sumMs += ms;
    },
    render() {
      const lines = [
        '# HELP pacer_http_requests_total HTTP requests answered, by method and status.',
        '# TYPE pacer_http_requests_total counter',
        ...[...counts].sort().map(([labels, n]) => `pacer_http_requests_total{${labels}} ${n}`),
        '# HELP pacer_http_request_duration_seconds Time to answer an HTTP request.',
        '# TYPE pacer_http_request_duration_seconds histogram',
        ...BUCKETS_MS.map(
          (bound, i) =>
            `pacer_http_request_duration_seconds_bucket{le="${bound / 1000}"} ${buckets[i] ?? 0}`,
        ),
        `pacer_http_request_duration_seconds_bucket{le="+Inf"} ${count}`,
        `pacer_http_request_duration_seconds_sum ${sumMs / 1000}`,
        `pacer_http_request_duration_seconds_count ${count}`,
      ];
      return lines.join('\n');
    },
    counts: () => Object.fromEntries(counts),
  };
}

/** Gauges from the leader's memory when it holds state, else (tests, no master) from the store. */
async function gauges(deps: ApiDeps): Promise<Record<string, number>> {
  const live = deps.live?.revision() !== undefined ? deps.live : undefined;
  const [apps, instances, agents, deployments] = await Promise.all([
    live ? live.apps() : deps.store.apps.list(),
    live ? live.instances() : deps.store.instances.list(),
    deps.store.agents.list(),
    live ? live.deployments() : deps.store.deployments.list(),
  ]);
  return {
    apps: apps.length,
    instances_wanted: apps.reduce((sum, app) => sum + app.instances, 0),
    instances_active: instances.filter((i) => isActive(i.condition)).length,
    instances_running: instances.filter((i) => i.condition === 'Running').length,
    instances_scheduled: instances.filter((i) => i.condition === 'Scheduled').length,
    agents_active: agents.filter((a) => a.state === 'active').length,
    agents_unreachable: agents.filter((a) => a.state === 'unreachable').length,
    deployments: deployments.length,
  };
}

const TASK_HELP: Record<TaskCounter['name'], string> = {
  task_fuel_used_total: 'Fuel used by ended Wasm tasks, by app.',
  tasks_ended_total: 'Tasks that ended, by app and final state.',
  agent_messages_dropped_total:
    'Messages from agents the master refused (invalid, or about what the agent does not own), by agent and reason.',
};

function labelText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}="${escapeLabel(value)}"`)
    .join(',');
}

/** Prometheus text of the task counters, one HELP and TYPE per metric name. */
function renderTaskCounters(counters: TaskCounter[]): string[] {
  const lines: string[] = [];
  for (const name of Object.keys(TASK_HELP) as TaskCounter['name'][]) {
    lines.push(`# HELP pacer_${name} ${TASK_HELP[name]}`, `# TYPE pacer_${name} counter`);
    for (const counter of counters.filter((c) => c.name === name))
      lines.push(`pacer_${name}{${labelText(counter.labels)}} ${counter.value}`);
  }
  return lines;
}

/** Routes of `/metrics` and `/metrics/prometheus`. */
/** The operations of `/metrics`. */
export const METRICS_ROUTES = defineRoutes({
  getMetrics: {
    method: 'get',
    path: '/metrics',
    operationId: 'getMetrics',
    summary: 'Metrics as JSON',
    tag: 'info',
    answers: { '200': json('Gauges and counters.', 'Metrics') },
  },
  getPrometheusMetrics: {
    method: 'get',
    path: '/metrics/prometheus',
    operationId: 'getPrometheusMetrics',
    summary: 'Metrics in the Prometheus text format',
    tag: 'info',
    answers: { '200': media('The metrics.', 'text/plain') },
  },
});

export function metricsRoutes(deps: ApiDeps, requests: RequestMetrics): Hono {
  const routes = new Hono();

  // Per-app counters name every team's apps: viewers of `/` only.
  on(routes, METRICS_ROUTES.getPrometheusMetrics, async (c) => {
    authorize(c, Action.VIEW);
    const tasks = renderTaskCounters(deps.taskMetrics?.counters() ?? []);
    if (deps.metrics) {
      // The master's own registry (prom-client, from memory) and the task counters beside it.
      const text = await deps.metrics.render();
      return c.text(`${text}${tasks.join('\n')}\n`, 200, {
        'Content-Type': deps.metrics.contentType,
      });
    }
    const values = await gauges(deps);
    const lines = Object.entries(values).flatMap(([name, value]) => [
      `# TYPE pacer_${name} gauge`,
      `pacer_${name} ${value}`,
    ]);
    return c.text(`${[...lines, ...tasks, requests.render()].join('\n')}\n`, 200, {
      'Content-Type': 'text/plain; version=0.0.4; charset=utf-8',
    });
  });

  on(routes, METRICS_ROUTES.getMetrics, async (c) => {
    authorize(c, Action.VIEW);
    const values = await gauges(deps);
    return c.json({
      version: '4.0.0',
      gauges: Object.fromEntries(
        Object.entries(values).map(([k, v]) => [`pacer.${k}`, { value: v }]),
      ),
      counters: Object.fromEntries([
        ...Object.entries(requests.counts()).map(([k, v]): [string, { count: number }] => [
          `pacer.http.requests{${k}}`,
          { count: v },
        ]),
        ...(deps.taskMetrics?.counters() ?? []).map((counter): [string, { count: number }] => [
          `pacer.${counter.name.replaceAll('_', '.')}{${labelText(counter.labels)}}`,
          { count: counter.value },
        ]),
      ]),
      histograms: {},
      meters: {},
      timers: {},
    });
  });

  return routes;
}
