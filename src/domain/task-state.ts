// Instance conditions and goals (Marathon's), and the Mesos task states they show as.
import { assertNever } from './assert-never.js';

export const MesosTaskState = [
  'TASK_ERROR',
  'TASK_FAILED',
  'TASK_FINISHED',
  'TASK_KILLED',
  'TASK_KILLING',
  'TASK_RUNNING',
  'TASK_STAGING',
  'TASK_STARTING',
  'TASK_UNREACHABLE',
  'TASK_UNKNOWN',
  'TASK_GONE',
  'TASK_DROPPED',
] as const;
export type MesosTaskState = (typeof MesosTaskState)[number];

export type Condition =
  | 'Scheduled'
  | 'Provisioned'
  | 'Staging'
  | 'Starting'
  | 'Running'
  | 'Killing'
  | 'Unreachable'
  | 'UnreachableInactive'
  | 'Finished'
  | 'Killed'
  | 'Failed'
  | 'Error'
  | 'Gone'
  | 'Dropped'
  | 'Unknown';

export type Goal = 'Running' | 'Stopped' | 'Decommissioned';

const TERMINAL: ReadonlySet<Condition> = new Set([
  'Finished',
  'Killed',
  'Failed',
  'Error',
  'Gone',
  'Dropped',
  'Unknown',
]);

/** Terminal: the task has ended and will not change again. */
export function isTerminal(condition: Condition): boolean {
  return TERMINAL.has(condition);
}

/** Active: placed on an agent and not ended (Marathon counts these against `instances`). */
export function isActive(condition: Condition): boolean {
  return !isTerminal(condition) && condition !== 'Scheduled' && condition !== 'UnreachableInactive';
}

/** The Mesos state a condition is shown as (`toMesosTaskStateOrStaging`). */
export function toMesosState(condition: Condition): MesosTaskState {
  switch (condition) {
    case 'Scheduled':
    case 'Provisioned':
    case 'Staging':
      return 'TASK_STAGING';
    case 'Starting':
      return 'TASK_STARTING';
    case 'Running':
      return 'TASK_RUNNING';
    case 'Killing':
      return 'TASK_KILLING';
    case 'Unreachable':
    case 'UnreachableInactive':
      return 'TASK_UNREACHABLE';
    case 'Finished':
      return 'TASK_FINISHED';
    case 'Killed':
      return 'TASK_KILLED';
    case 'Failed':
      return 'TASK_FAILED';
    case 'Error':
      return 'TASK_ERROR';
    case 'Gone':
      return 'TASK_GONE';
    case 'Dropped':
      return 'TASK_DROPPED';
    case 'Unknown':
      return 'TASK_UNKNOWN';
    default:
      return assertNever(condition);
  }
}

/** The condition a reported Mesos state puts an instance in. */
export function fromMesosState(state: MesosTaskState): Condition {
  switch (state) {
    case 'TASK_STAGING':
      return 'Staging';
    case 'TASK_STARTING':
      return 'Starting';
    case 'TASK_RUNNING':
      return 'Running';
    case 'TASK_KILLING':
      return 'Killing';
    case 'TASK_UNREACHABLE':
      return 'Unreachable';
    case 'TASK_FINISHED':
      return 'Finished';
    case 'TASK_KILLED':
      return 'Killed';
    case 'TASK_FAILED':
      return 'Failed';
    case 'TASK_ERROR':
      return 'Error';
    case 'TASK_GONE':
      return 'Gone';
    case 'TASK_DROPPED':
      return 'Dropped';
    case 'TASK_UNKNOWN':
      return 'Unknown';
    default:
      return assertNever(state);
  }
}
