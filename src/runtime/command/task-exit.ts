// Maps how a native task ended (status, who stopped it and why, OOM) to a TaskExit with
// DESIGN.md's failure reasons. Shared by the command and container drivers.
import { constants } from 'node:os';
import { failureMessage } from '../../domain/index.js';
import type { TaskExit } from '../driver.js';

/** Why the driver itself ended a task, if it did. */
export type StopCause =
  | { kind: 'killed' }
  | { kind: 'timeout'; timeoutMs: number }
  | { kind: 'disk'; usedBytes: number; diskMiB: number };

export interface EndedTask {
  /** What describes the task in messages: `Command`, `Container`. */
  noun: string;
  /** Exit status as a shell reports it (128 + n after signal n); undefined when unknown. */
  exitCode?: number;
  stopCause?: StopCause;
  /** The memory limit was hit and the kernel killed something for it. */
  isOutOfMemory: boolean;
  memMiB: number;
}

const MiB = 1024 * 1024;

/** The exit to report. The driver's own stop wins over what the task did in its last moments. */
export function toTaskExit(task: EndedTask): TaskExit {
  const code = task.exitCode === undefined ? {} : { exitCode: task.exitCode };
  switch (task.stopCause?.kind) {
    case 'killed':
      return {
        state: 'TASK_KILLED',
        reason: 'KILLED',
        message: failureMessage('KILLED', `${task.noun} was stopped on request`),
        ...code,
      };
    case 'timeout':
      return {
        state: 'TASK_FAILED',
        reason: 'TIMEOUT',
        message: failureMessage(
          'TIMEOUT',
          `${task.noun} ran longer than its limit of ${task.stopCause.timeoutMs / 1000} s and was stopped`,
        ),
        ...code,
      };
    case 'disk':
      return {
        state: 'TASK_FAILED',
        reason: 'DISK_LIMIT',
        message: failureMessage(
          'DISK_LIMIT',
          `the sandbox used ${(task.stopCause.usedBytes / MiB).toFixed(1)} MiB, more than disk ` +
            `${task.stopCause.diskMiB} MiB, and the ${task.noun.toLowerCase()} was stopped`,
        ),
        ...code,
      };
    case undefined:
      break;
  }
  if (task.isOutOfMemory) {
    return {
      state: 'TASK_FAILED',
      reason: 'MEMORY_LIMIT',
      message: failureMessage(
        'MEMORY_LIMIT',
        `${task.noun} needed more memory than mem ${task.memMiB} MiB allows` +
          (task.exitCode === undefined ? '' : ` (${describeStatus(task.exitCode)})`),
      ),
      ...code,
    };
  }
  if (task.exitCode === undefined) {
    return {
      state: 'TASK_FAILED',
      message: `${task.noun} ended without an exit status (its processes were killed from outside the agent)`,
    };
  }
  if (task.exitCode === 0) {
    return { state: 'TASK_FINISHED', message: `${task.noun} exited with status 0`, exitCode: 0 };
  }
  return {
    state: 'TASK_FAILED',
    reason: 'NONZERO_EXIT',
    message: failureMessage('NONZERO_EXIT', `${task.noun} ${describeStatus(task.exitCode)}`),
    exitCode: task.exitCode,
  };
}

/** `exited with status 3`, `was killed by signal 9 (SIGKILL)`. */
export function describeStatus(exitCode: number): string {
  const signal = exitCode > 128 && exitCode < 128 + 65 ? exitCode - 128 : undefined;
  const name = signal === undefined ? undefined : signalName(signal);
  return name === undefined
    ? `exited with status ${exitCode}`
    : `was killed by signal ${signal} (${name}), exit status ${exitCode}`;
}

function signalName(signal: number): string | undefined {
  return Object.entries(constants.signals).find(([, number]) => number === signal)?.[0];
}
