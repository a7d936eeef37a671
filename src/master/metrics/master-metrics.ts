// The master's Prometheus metrics (prom-client), read from in-memory state at scrape time (the
// applier's maps, the agent book, the launch queue): a scrape never reads the store. Counters
// and histograms are fed by the loops as things happen (passes, placements, API requests).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Plan } from '../../scheduler/index.js';
import type { AgentBook } from '../agent-book.js';
import type { Applier } from '../applier/index.js';
import type { LaunchQueue } from '../launch-queue.js';
import { registerAgentMetrics } from './agent-metrics.js';
import { createRequestSeries } from './request-series.js';
import type { RequestRecorder } from './request-series.js';
import type { AgentMetricsSink } from './agent-metrics.js';

export interface MasterMetrics extends AgentMetricsSink {
  /** Times one evaluation pass (seconds); called once per pass by the evaluation loop. */
  observePass(seconds: number): void;
  /** Counts a pass's placements and, per reason, the instances it could not place. */
  countPlan(plan: Plan): void;
  /** The age of the newest entry a bus reader handled, by stream kind (seconds). */
  observeBusLag(stream: string, seconds: number): void;
  /**
   * The recorder of API requests answered by a route template (never the raw path: the label
   * set stays bounded whatever clients ask for) and method; it counts each by status and time.
   */
  requestRecorder(route: string, method: string): RequestRecorder;
  /** Prometheus text of every metric. */
  render(): Promise<string>;
  /** The content type of `render`'s text. */
  contentType: string;
}

/** Instance conditions, as gauges count them (every condition appears, 0 included). */
const CONDITIONS = [
  'Scheduled',
  'Provisioned',
  'Staging',
  'Starting',
  'Running',
  'Killing',
  'Killed',
  'Finished',
  'Failed',
  'Error',
  'Gone',
  'Dropped',
  'Unreachable',
  'UnreachableInactive',
  'Unknown',
] as const;

export function createMasterMetrics(sources: {
  applier: Applier;
  agents: AgentBook;
  launchQueue: LaunchQueue;
  /** Leadership as now known (read at scrape time; set once the leadership exists). */
  leadership: () => { isLeader: boolean; term: number | undefined };
}): MasterMetrics {
  const { applier, agents, launchQueue } = sources;
  const registry = new Registry();
  const registers = [registry];
  /** The applier's memory, or nothing while this master holds no state (a follower). */
  const loaded = () => applier.apps.revision() !== undefined;

  new Gauge({
    name: 'pacer_apps',
    help: 'Apps defined (leader only).',
    registers,
    collect() {
      this.set(loaded() ? applier.apps.apps().size : 0);
    },
  });
  new Gauge({
    name: 'pacer_instances',
    help: 'Instances by condition (leader only).',
    labelNames: ['condition'],
    registers,
    collect() {
      const counts = new Map<string, number>(CONDITIONS.map((c) => [c, 0]));
      for (const instance of applier.instances.all())
        counts.set(instance.condition, (counts.get(instance.condition) ?? 0) + 1);
      this.reset();
      for (const [condition, n] of counts) this.set({ condition }, n);
    },
  });
  new Gauge({
    name: 'pacer_instances_wanted',
    help: 'Instances the apps ask for in total (leader only).',
    registers,
    collect() {
      let wanted = 0;
      if (loaded()) for (const app of applier.apps.apps().values()) wanted += app.instances;
      this.set(wanted);
    },
  });
  new Gauge({
    name: 'pacer_deployments',
    help: 'Running deployments (leader only).',
    registers,
    collect() {
      this.set(loaded() ? applier.apps.deployments().length : 0);
    },
  });
  new Gauge({
    name: 'pacer_launch_queue',
    help: 'Instances waiting for a placement (Scheduled, wanted running) (leader only).',
    registers,
    collect() {
      let waiting = 0;
      for (const i of applier.instances.all())
        if (i.condition === 'Scheduled' && i.goal === 'Running') waiting++;
      this.set(waiting);
    },
  });
  new Gauge({
    name: 'pacer_launch_queue_delayed_apps',
    help: 'Apps in launch backoff after failures (leader only).',
    registers,
    collect() {
      let delayed = 0;
      if (loaded()) {
        const now = Date.now();
        for (const app of applier.apps.apps().values())
          if (launchQueue.notBefore(app) > now) delayed++;
      }
      this.set(delayed);
    },
  });
  new Gauge({
    name: 'pacer_agents',
    help: 'Agents known to the master, by state and drain (leader only).',
    labelNames: ['state'],
    registers,
    collect() {
      const counts = new Map<string, number>([
        ['active', 0],
        ['unreachable', 0],
        ['draining', 0],
      ]);
      const drains = applier.drains.all();
      for (const agent of agents.list()) {
        counts.set(agent.state, (counts.get(agent.state) ?? 0) + 1);
        if (drains.has(agent.agentId)) counts.set('draining', (counts.get('draining') ?? 0) + 1);
      }
      for (const [state, n] of counts) this.set({ state }, n);
    },
  });
  new Gauge({
    name: 'pacer_leader',
    help: '1 while this master leads, else 0.',
    registers,
    collect() {
      this.set(sources.leadership().isLeader ? 1 : 0);
    },
  });
  new Gauge({
    name: 'pacer_leader_term',
    help: 'The term of the leadership this master holds (0 when following).',
    registers,
    collect() {
      this.set(sources.leadership().term ?? 0);
    },
  });

  const passes = new Histogram({
    name: 'pacer_scheduling_pass_duration_seconds',
    help: 'Time of one evaluation pass: snapshot, reconcile, schedule, store, commands.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  const placements = new Counter({
    name: 'pacer_placements_total',
    help: 'Instances placed on agents.',
    registers,
  });
  const failures = new Counter({
    name: 'pacer_placement_failures_total',
    help: 'Instances a pass could not place, by each reason agents refused them for.',
    labelNames: ['reason'],
    registers,
  });
  const busLag = new Gauge({
    name: 'pacer_bus_lag_seconds',
    help: 'Age of the newest bus entry a reader handled, by stream.',
    labelNames: ['stream'],
    registers,
  });
  // API requests: counted once per request, outside prom-client (request-series.ts).
  const requests = createRequestSeries();
  const agentSink = registerAgentMetrics(registry);

  return {
    ...agentSink,
    observePass: (seconds) => passes.observe(seconds),
    countPlan(plan) {
      if (plan.placements.length > 0) placements.inc(plan.placements.length);
      for (const unplaced of plan.unplaced)
        for (const reason of Object.keys(unplaced.reasons)) failures.inc({ reason });
    },
    observeBusLag: (stream, seconds) => busLag.set({ stream }, Math.max(0, seconds)),
    requestRecorder: (route, method) => requests.recorder(route, method),
    render: async () => `${await registry.metrics()}\n${requests.render()}\n`,
    contentType: registry.contentType,
  };
}
