// The ports of the HTTP edge: what the API needs from the rest of the master, declared here by
// the API. master/ implements them by shape without importing api/; cli/ wires the two together.
import type {
  AppChange,
  AppDefinition,
  Deployment,
  DeploymentResult,
  GroupRecord,
  Instance,
  KillOptions,
  LogLine,
  MarathonEvent,
  Quota,
  RolePolicy,
  TaskCounter,
  TaskFailure,
} from '../domain/index.js';

/** The writes: every change of apps, tasks and deployments goes through it. */
export interface OrchestratorPort {
  /**
   * Validates the change against current state (existence, locks), stores the new versions and
   * the deployment before it resolves, and starts it. Throws `ConflictError` when `isCreation`
   * and an app exists, `NotFoundError` when an app to remove or restart does not, and
   * `AppLockedError` when an affected app is in a running deployment and `force` is false (with
   * `force`, the running ones are cancelled). Concurrent changes of the same app take turns.
   */
  deploy(change: AppChange, options: { force: boolean }): Promise<DeploymentResult>;
  /**
   * Kills the given tasks. Without `wipe` their instances are relaunched; with `wipe` they are
   * removed; with `scale` the app's `instances` is lowered by a deployment.
   */
  killTasks(
    taskIds: string[],
    options: KillOptions,
  ): Promise<{ killed: Instance[]; deployment?: DeploymentResult }>;
  /** Cancels a deployment: with `force` simply stops it (undefined), else starts a rollback. */
  cancelDeployment(id: string, options: { force: boolean }): Promise<DeploymentResult | undefined>;
  /** Resets an app's launch backoff; false when the app has none queued. */
  resetDelay(appId: string): Promise<boolean>;
  /**
   * Stores records of top-level groups (`enforceRole` false removes one), with no deployment
   * (`PATCH /v2/groups/{id}`); resolves once stored. Idempotent.
   */
  updateGroups(records: GroupRecord[]): Promise<void>;
}

/** The event stream: what `/v2/events` serves and what ends the read model's snapshot. */
export interface EventHubPort {
  /** Queues an event to be stored and fanned out; resolves at once (never waits for a reader). */
  emit(event: Omit<MarathonEvent, 'timestamp'> & { timestamp?: string }): Promise<void>;
  /**
   * Calls `listener` for every event from now on (after replaying those with id > `afterId`
   * when given). Returns the unsubscribe function.
   */
  subscribe(
    listener: (event: MarathonEvent, id: number) => void,
    options?: { afterId?: number },
  ): Promise<() => void>;
}

/** Task logs, read from the agent that runs (or ran) the task. */
export interface LogReaderPort {
  /** The last `tail` lines of a task (all streams or one), oldest first. */
  read(taskId: string, options: { stream?: 'stdout' | 'stderr'; tail: number }): Promise<LogLine[]>;
  /**
   * The last `tail` lines (as `read`), then lines as they are written, until `signal` aborts:
   * one cursor from the first to the last, so no line written in between is lost.
   */
  follow(
    taskId: string,
    options: { stream?: 'stdout' | 'stderr'; tail: number; signal: AbortSignal },
  ): AsyncIterable<LogLine>;
}

/** The leader's state in memory: its app cache and instance tracker. */
export interface LiveState {
  /**
   * A number that changes whenever apps, deployments or instances do; undefined while this
   * master holds no state (it follows another, whose answers it relays).
   */
  revision(): number | undefined;
  apps(): AppDefinition[];
  /** In creation order. */
  deployments(): Deployment[];
  instances(): Instance[];
  /** The latest failed task of an app, as the leader holds it (absent: read from the store). */
  lastTaskFailure?(appId: string): Promise<TaskFailure | undefined>;
  /** One app, without copying the others. */
  app(id: string): AppDefinition | undefined;
  /** How many apps hold service port `port`, from an index (assigning one scans no apps). */
  servicePortHolders(port: number): number;
  /** The lowest service port at or above `from` that no app holds (no walk over held ones). */
  firstUnheldServicePort(from: number): number;
  /** The top-level groups that enforce their role, from memory (a POST reads no group row). */
  enforcingGroups(): Set<string>;
}

/** How agents answered an app's last placement attempt (Marathon's processedOffersSummary). */
export interface PlacementRejections {
  /** The last round: agents visited and refusals by reason. */
  agentsEvaluated: number;
  reasons: Partial<Record<string, number>>;
  /** epoch ms of the last round */
  at: number;
  /** Every round of the current launch attempt, added up (`rejectSummaryLaunchAttempt`). */
  attempt?: { agentsEvaluated: number; reasons: Partial<Record<string, number>> };
  /** epoch ms of the app's last placement in this attempt. */
  lastPlacedAt?: number;
}

/**
 * What `/v2/queue` reads from the master's launch queue besides the store: backoff deadlines and
 * how agents answered the last placement attempt.
 */
export interface LaunchQueuePort {
  /** The current backoff of an app: no launch before `deadline` (epoch ms); undefined = none. */
  get(appId: string): { deadline: number } | undefined;
  /** How agents answered the app's last placement attempt that left instances unplaced. */
  rejections?(appId: string): PlacementRejections | undefined;
}

/** Leader election among masters, as the edge sees it. */
export interface LeadershipPort {
  /** True while this master holds the lease. */
  isLeader(): boolean;
  /** Base URL of the current leader (this master's own when leading), if any. */
  leaderUrl(): string | undefined;
  /** Gives the lease up; another master (or this one, later) takes it. */
  abdicate(): Promise<void>;
}

/** Seals and opens secret values with one key (`PACER_SECRETS_KEY_FILE`). */
export interface SecretBoxPort {
  /** `value` encrypted for `path`; never the same bytes twice. */
  seal(path: string, value: string): Uint8Array;
  /** The value sealed for `path`; throws when the data was changed, moved or sealed by another key. */
  open(path: string, sealed: Uint8Array): string;
}

/** Counters of ended tasks and dropped agent messages, for `/metrics`. */
export interface TaskCountersPort {
  /** Every counter, sorted by name and labels. */
  counters(): TaskCounter[];
}

/** Agents' join tokens, joins and revocation (`/v2/acl/agent-tokens`, `/v2/acl/agents`). */
export interface AgentIdentityPort {
  createJoinToken(hostname: string): Promise<{ token: string; expiresAt: number }>;
  /** Throws UnauthenticatedError (401) for an unknown, used or expired token. */
  join(token: string): Promise<{
    agentId: string;
    hostname: string;
    redisUsername: string;
    redisPassword: string;
  }>;
  /** False when the master knows no such agent. */
  revoke(agentId: string): Promise<boolean>;
}

/** Quota and weights per role (`/v2/quota`, `/v2/weights`): the master's applier keeps them. */
export interface RolePoliciesPort {
  /** Every role with a quota or a weight, ordered by role. */
  list(): RolePolicy[];
  get(role: string): RolePolicy | undefined;
  /** Sets (null: removes) the role's quota; resolves once stored. */
  setQuota(role: string, quota: Quota | null): Promise<void>;
  /** Sets (null: back to 1) the role's weight; resolves once stored. */
  setWeight(role: string, weight: number | null): Promise<void>;
}

/** Agents in maintenance (`/v2/agents/{id}/drain`, `/undrain`): Mesos's drain. */
/** Fuel running tasks used so far, as their agents last reported it (master/task-fuel.ts). */
export interface TaskFuelPort {
  /** The latest figure for a running task, or undefined when its agent reported none. */
  fuelUsed(taskId: string): number | undefined;
}

export interface AgentDrainPort {
  /**
   * Stops placements on the agent and replaces its instances elsewhere under their apps'
   * upgrade strategies; stored before it resolves. Idempotent. Throws NotFoundError for an
   * agent the master does not know.
   */
  drain(agentId: string): Promise<{ state: 'draining' | 'drained'; since: string }>;
  /** Takes the agent out of maintenance. Idempotent. */
  undrain(agentId: string): Promise<void>;
  /** The agent's drain, undefined when it is in service. */
  stateOf(agentId: string): { state: 'draining' | 'drained'; since: string } | undefined;
}

/** The master's Prometheus metrics (`/metrics/prometheus`), kept in memory by the master. */
export interface MetricsPort {
  /**
   * The recorder of requests answered by `route`, the matched route template (`/v2/apps/{id}`)
   * or `unmatched` (never the raw path, so the series stay bounded), and `method`: it counts
   * each answer by status and time in seconds. Asked once per route and method, then called
   * once per request, on the hot path.
   */
  requestRecorder(route: string, method: string): (status: number, seconds: number) => void;
  /** Prometheus text of every metric, read from memory (no store scan). */
  render(): Promise<string>;
  contentType: string;
}
