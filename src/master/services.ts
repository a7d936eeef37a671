// What the master offers the HTTP edge: the writes that start deployments, the event hub, task logs.
// Reads go straight to the store.
import type {
  AppChange,
  DeploymentResult,
  GroupRecord,
  Instance,
  KillOptions,
  LogLine,
  MarathonEvent,
} from '../domain/index.js';
import type { Store } from '../store/index.js';

/** An event as a writer emits it; the event hub stamps the timestamp when absent. */
export type EventInput = Omit<MarathonEvent, 'timestamp'> & { timestamp?: string };

export interface Orchestrator {
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

export interface EventHub {
  /**
   * Queues an event to be stored and fanned out, in emit order; resolves at once (the caller
   * never waits for the database or a slow subscriber). `flush` waits for the queue.
   */
  emit(event: EventInput): Promise<void>;
  /**
   * Events stored by a write of the caller's, so that a state change and the events that tell of
   * it take one transaction instead of two in a row (the applier's writes): `append` is the
   * statement to run inside that write, `publish` delivers the events once it committed.
   */
  stage(events: EventInput[]): StagedEvents;
  /** Resolves once every event emitted so far is stored and delivered. */
  flush(): Promise<void>;
  /**
   * Calls `listener` for every event from now on (after replaying those with id > `afterId`
   * when given). Returns the unsubscribe function.
   */
  subscribe(
    listener: (event: MarathonEvent, id: number) => void,
    options?: { afterId?: number },
  ): Promise<() => void>;
}

export interface StagedEvents {
  /** Appends the events inside `db` (a write's store); one statement for up to `EVENTS_PER_STATEMENT`. */
  append(db: Store): Promise<void>;
  /** After the write committed: delivers the events to subscribers, with their stored ids. */
  publish(): void;
  count: number;
}

export interface LogReader {
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
