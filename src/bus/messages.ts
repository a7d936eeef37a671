// The messages that cross the bus between master and agents, and the stream names.
import type {
  FailureReason,
  FetchUri,
  MesosTaskState,
  Resources,
  RoleResources,
  ScalarResources,
  TaskKind,
  Container,
  HealthCheck,
  HostAccess,
} from '../domain/index.js';

/**
 * Stream names, before the bus's key prefix. Every stream an agent writes is its own
 * (`agent:<id>:…`): Redis does not record who wrote an entry, so only the stream's name, which
 * the agent's ACL user alone may write, tells the master who sent it (redis-acl.ts).
 */
export const topics = {
  /** one agent → master: resources free, attributes, capabilities, running task ids. */
  offers: (agentId: string) => `agent:${agentId}:offers`,
  /** one agent → master: status updates and health results of its tasks. */
  status: (agentId: string) => `agent:${agentId}:status`,
  /** master → one agent: launch, kill, reconcile, and acknowledgements of its status updates. */
  commands: (agentId: string) => `agent:${agentId}:commands`,
  /** one agent → readers: stdout/stderr lines of one task it runs. */
  logs: (agentId: string, taskId: string) => `agent:${agentId}:logs:${taskId}`,
  /**
   * agents → master: "I exist" from agents without an identity of their own; read only when the
   * master does not require agent identity (an agent with its own ACL user cannot write it).
   */
  announce: 'agents',
} as const;

/** Announcements kept in `topics.announce`: what a newly elected master reads back. */
export const ANNOUNCEMENTS_KEPT = 1_000;

/** An agent without credentials tells the master its id, so it reads its streams. */
export interface AnnounceMessage {
  type: 'hello';
  agentId: string;
}

/** An agent's periodic report; doubles as its heartbeat. */
export interface OfferMessage {
  type: 'offer';
  agentId: string;
  hostname: string;
  attributes: Record<string, string>;
  capabilities: TaskKind[];
  /** What the operator lets tasks reach on the agent's host (absent: nothing). */
  hostAccess?: HostAccess;
  total: Resources;
  free: Resources;
  /**
   * Parts of `total` reserved to roles (`--resources cpus(web):2;ports(web):[…];…`); absent:
   * none. Reserved port ranges lie inside `total.ports`, each port reserved to one role.
   */
  reservations?: RoleResources[];
  runningTaskIds: string[];
  /** Agent's clock, epoch ms. */
  sentAt: number;
  /**
   * The id of the newest entry of its command stream the agent has handled (commands are handled
   * in stream order): a launch at or before it reached the agent, so a task it does not list (nor
   * as ended) is gone; a later one may still be waiting in the stream. Absent: none yet, or an
   * older agent.
   */
  commandsReadTo?: string;
  /** When this agent process started (agent's clock, epoch ms): tasks launched before and not
   * listed did not survive a restart. */
  startedAt: number;
  /** Log lines this agent process dropped over its tasks' rate limits (a counter). */
  logLinesDropped?: number;
  /**
   * Tasks that ended here whose final status the master has not acknowledged yet: it is in the
   * agent's outbox, on its way. Not running, and not missing either (absent: none).
   */
  endedTaskIds?: string[];
  /** The agent's own metrics (it cannot be scraped behind NAT); the master shows the latest. */
  metrics?: AgentMetricsSnapshot;
  /**
   * Fuel its running metered tasks used so far (whole units), for those whose driver knows it.
   * Believed only for tasks the master placed on this agent.
   */
  taskFuel?: { taskId: string; fuelUsed: number }[];
}

/**
 * What an agent reports about itself with each offer: small (at most one row per task kind and
 * state), counters since the agent process started.
 */
export interface AgentMetricsSnapshot {
  /** Tasks it holds now, by kind and latest reported state. */
  tasks: { kind: TaskKind; state: MesosTaskState; count: number }[];
  /** Fuel used by the Wasm tasks that ended here. */
  fuelUsed: number;
  /** Resident memory of the agent process, bytes. */
  memoryBytes: number;
  /** CPU time of the agent process (user + system), seconds. */
  cpuSeconds: number;
  /** Bytes of log lines dropped over rate limits. */
  logBytesDropped: number;
  /** Bytes in the artifact cache. */
  fetchCacheBytes: number;
  /** Handler mode (WAGI) requests answered here; absent from agents that predate it. */
  handlerRequests?: HandlerRequestMetrics;
}

/** Upper bounds (fuel) of the handler-request fuel histogram's buckets (+Inf is `requests`). */
export const HANDLER_FUEL_BOUNDS = [1e5, 1e6, 1e7, 1e8, 1e9, 1e10] as const;

/** Handler-mode requests on an agent since it started (agent/handler-metrics.ts). */
export interface HandlerRequestMetrics {
  requests: number;
  /** Answered with a 5xx (the handler failed, looped, ran out of fuel or time). */
  serverErrors: number;
  /** Fuel used by all of them. */
  fuelSum: number;
  /** Requests that used at most each bound of `HANDLER_FUEL_BOUNDS` (cumulative). */
  fuelBuckets: number[];
}

export interface StatusMessage {
  type: 'status';
  agentId: string;
  taskId: string;
  state: MesosTaskState;
  /** For ended tasks: a failure code and a sentence (`OUT_OF_FUEL: …`). */
  message?: string;
  reason?: FailureReason;
  exitCode?: number;
  fuelUsed?: number;
  /**
   * The agent's sequence number, increasing over all its updates (and across its restarts);
   * per task, duplicates and older updates are ignored.
   */
  seq: number;
  /**
   * The outbox's order (agent/status-outbox.ts): the `seq` of the update this agent sent before
   * this one and still holds, or the last one the master acknowledged. The master applies this
   * one only once it has applied that one, so updates take effect in order and once.
   */
  prev?: number;
  /** With `prev`: the last acknowledgement this agent received (from any master). */
  acked?: number;
  /** Agent's clock, epoch ms. */
  at: number;
}

/** One probe result of one of a task's health checks (sent on the status stream). */
export interface HealthMessage {
  type: 'health';
  agentId: string;
  taskId: string;
  /** Index of the check in the app's `healthChecks`. */
  check: number;
  alive: boolean;
  /** Why the probe failed, when it did. */
  cause?: string;
  /** Agent's clock, epoch ms. */
  at: number;
}

/** Everything an agent needs to run one task; built by the master from the app version. */
export interface TaskLaunchSpec {
  kind: TaskKind;
  appId: string;
  appVersion: string;
  cmd?: string;
  args?: string[];
  env: Record<string, string>;
  labels: Record<string, string>;
  fetch: FetchUri[];
  resources: ScalarResources;
  ports: number[];
  container?: Container;
  killGracePeriodSeconds?: number;
  /** The app's health checks, probed by the agent beside the task. */
  healthChecks?: HealthCheck[];
}

export interface LaunchCommand {
  type: 'launch';
  taskId: string;
  spec: TaskLaunchSpec;
}

export interface KillCommand {
  type: 'kill';
  taskId: string;
}

/** Asks an agent to report every task it runs and kill those not in `taskIds`. */
export interface ReconcileCommand {
  type: 'reconcile';
  taskIds: string[];
}

/** The master has applied this agent's status updates up to `seq`: the agent may forget them. */
export interface AckCommand {
  type: 'ack';
  seq: number;
}

/** The master misses some of this agent's status updates: send what is held again, in order. */
export interface ResendCommand {
  type: 'resend';
}

export type CommandMessage =
  LaunchCommand | KillCommand | ReconcileCommand | AckCommand | ResendCommand;

/** One line of a task's output. */
export interface LogMessageLine {
  stream: 'stdout' | 'stderr';
  line: string;
}

/**
 * A batch of a task's log lines in the order it wrote them (an agent publishes one entry per
 * batch, not per line). Dropped lines appear as a `[pacer: N lines dropped]` line.
 */
export interface LogMessage {
  /** When the batch's first line arrived (epoch ms). */
  at: number;
  lines: LogMessageLine[];
}
