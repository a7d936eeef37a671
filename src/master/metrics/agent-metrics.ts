// Agents' own metrics: agents sit behind NAT and cannot be scraped, so each offer carries a
// compact snapshot (checked by the bus schema, believed only from the agent's own stream), and
// the master shows the latest one of each agent with an `agent` label.
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import { HANDLER_FUEL_BOUNDS, type AgentMetricsSnapshot } from '../../bus/index.js';

type HandlerFigures = NonNullable<AgentMetricsSnapshot['handlerRequests']>;

export interface AgentMetricsSink {
  /** Keeps `snapshot` as the agent's latest; called for each believed offer that has one. */
  onAgentSnapshot(agentId: string, snapshot: AgentMetricsSnapshot): void;
  /** Drops an agent's series (expunged or revoked). Idempotent. */
  forgetAgent(agentId: string): void;
}

/** Registers the agent gauges on `registry`; they read the latest snapshots when scraped. */
export function registerAgentMetrics(registry: Registry): AgentMetricsSink {
  const latest = new Map<string, AgentMetricsSnapshot>();
  const registers = [registry];
  const scalar = (name: string, help: string, pick: (snapshot: AgentMetricsSnapshot) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['agent'],
      registers,
      collect() {
        this.reset();
        for (const [agent, snapshot] of latest) this.set({ agent }, pick(snapshot));
      },
    });

  new Gauge({
    name: 'pacer_agent_tasks',
    help: 'Tasks on an agent, by kind and latest state (from its last offer).',
    labelNames: ['agent', 'kind', 'state'],
    registers,
    collect() {
      this.reset();
      for (const [agent, snapshot] of latest)
        for (const { kind, state, count } of snapshot.tasks)
          this.set({ agent, kind, state }, count);
    },
  });
  // Counters on the agent, shown as gauges: the master only relays the agent's latest value
  // (a restarted agent starts again from 0, which rate() over a gauge would misread anyway).
  scalar(
    'pacer_agent_fuel_used',
    'Fuel used by the Wasm tasks that ended on the agent since it started.',
    (s) => s.fuelUsed,
  );
  scalar('pacer_agent_memory_bytes', 'Resident memory of the agent process.', (s) => s.memoryBytes);
  scalar(
    'pacer_agent_cpu_seconds',
    'CPU time (user + system) of the agent process since it started.',
    (s) => s.cpuSeconds,
  );
  // Handler mode (WAGI): per-request figures, agent totals; absent for agents without any.
  const handler = (name: string, help: string, pick: (h: HandlerFigures) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['agent'],
      registers,
      collect() {
        this.reset();
        for (const [agent, snapshot] of latest) {
          if (snapshot.handlerRequests) this.set({ agent }, pick(snapshot.handlerRequests));
        }
      },
    });
  handler(
    'pacer_agent_handler_requests',
    'Handler-mode (WAGI) requests answered on the agent since it started.',
    (h) => h.requests,
  );
  handler(
    'pacer_agent_handler_requests_5xx',
    'Handler-mode requests answered with a 5xx (failed, looped, out of fuel or time).',
    (h) => h.serverErrors,
  );
  handler(
    'pacer_agent_handler_request_fuel_sum',
    'Fuel used by all handler-mode requests on the agent.',
    (h) => h.fuelSum,
  );
  // The histogram's buckets, in Prometheus' shape (`le`, cumulative, +Inf = every request).
  new Gauge({
    name: 'pacer_agent_handler_request_fuel_bucket',
    help: 'Handler-mode requests that used at most `le` fuel (cumulative, as a histogram).',
    labelNames: ['agent', 'le'],
    registers,
    collect() {
      this.reset();
      for (const [agent, snapshot] of latest) {
        const figures = snapshot.handlerRequests;
        if (!figures) continue;
        HANDLER_FUEL_BOUNDS.forEach((bound, i) =>
          this.set({ agent, le: String(bound) }, figures.fuelBuckets[i] ?? 0),
        );
        this.set({ agent, le: '+Inf' }, figures.requests);
      }
    },
  });
  scalar(
    'pacer_agent_log_bytes_dropped',
    "Bytes of task log lines the agent dropped over its tasks' rate limits since it started.",
    (s) => s.logBytesDropped,
  );
  scalar(
    'pacer_agent_fetch_cache_bytes',
    "Bytes in the agent's artifact cache.",
    (s) => s.fetchCacheBytes,
  );

  return {
    onAgentSnapshot: (agentId, snapshot) => latest.set(agentId, snapshot),
    forgetAgent: (agentId) => latest.delete(agentId),
  };
}
