// An instance of an app: one placement with a goal and a condition. Its current task id is
// `<instanceId>._app.<incarnation>`; a relaunch keeps the instance and bumps the incarnation.
import type { ScalarResources } from './resources.js';
import type { Condition, Goal } from './task-state.js';
import { taskIdOf } from './ids.js';

export interface HealthResult {
  alive: boolean;
  consecutiveFailures: number;
  firstSuccess?: string;
  lastSuccess?: string;
  lastFailure?: string;
  lastFailureCause?: string;
}

/** Marathon's `ReadinessCheckResult`: the latest answer of one readiness check for a task. */
export interface ReadinessCheckResult {
  name: string;
  taskId: string;
  ready: boolean;
  /** Kept only with `preserveLastResponse` (the body capped). */
  lastResponse?: { status: number; contentType: string; body: string };
}

export interface Instance {
  instanceId: string;
  appId: string;
  /** Version of the app definition this instance runs. */
  appVersion: string;
  goal: Goal;
  condition: Condition;
  incarnation: number;
  agentId?: string;
  host?: string;
  ports: number[];
  resources: ScalarResources;
  /** The role the instance is accounted to (quota, DRF): its app's role when placed. */
  role?: string;
  /** Set when placed under a role that may use its reservations: they are consumed first. */
  reservationRole?: string;
  /** When the instance was created (Marathon orders kills by it). */
  createdAt: string;
  stagedAt?: string;
  startedAt?: string;
  conditionChangedAt: string;
  /** Last status message: a failure code and a sentence, when the task ended. */
  message?: string;
  /**
   * Fuel the latest ended task of this instance used (metered Wasm tasks). Kept with its task id:
   * a relaunch starts a new task at once, often before anyone asks.
   */
  lastTaskFuel?: { taskId: string; fuelUsed: number };
  healthCheckResults: HealthResult[];
  /** Results of the app's readiness checks while its task runs (Marathon runs them in deployments). */
  readinessCheckResults?: ReadinessCheckResult[];
  /** Highest status sequence number applied; older or repeated updates are ignored. */
  lastStatusSeq: number;
  /** When the instance may be (re)launched again, epoch ms (backoff); 0 = at once. */
  launchNotBefore: number;
}

export function currentTaskId(instance: Pick<Instance, 'instanceId' | 'incarnation'>): string {
  return taskIdOf(instance.instanceId, instance.incarnation);
}

/** Marathon's `lastTaskFailure`: the latest failed task of an app. */
export interface TaskFailure {
  appId: string;
  host: string;
  message: string;
  state: string;
  taskId: string;
  timestamp: string;
  version: string;
  slaveId?: string;
}
