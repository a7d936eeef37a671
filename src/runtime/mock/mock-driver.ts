// A TaskDriver for tests of other components: tasks behave as their labels script them,
// with no module, process or thread behind them.
import { FailureReason, failureMessage } from '../../domain/index.js';
import {
  TaskStartError,
  type TaskDriver,
  type TaskExit,
  type TaskHandle,
  type TaskSpec,
} from '../driver.js';

/** Labels that script a mock task; without any the task runs until stopped. */
export const MockLabels = {
  /** Ends the task this many ms after start. */
  exitAfterMs: 'MOCK_EXIT_AFTER_MS',
  /** Exit code when it ends by itself (default 0; non-zero is NONZERO_EXIT). */
  exitCode: 'MOCK_EXIT_CODE',
  /** A failure reason to end with instead of an exit code (e.g. `TRAP`, `OUT_OF_FUEL`). */
  failReason: 'MOCK_FAIL_REASON',
  /** `start` rejects with a TaskStartError of this reason (e.g. `INVALID_MODULE`). */
  startError: 'MOCK_START_ERROR',
  /** A line written to stdout at start (`|` separates several). */
  log: 'MOCK_LOG',
} as const;

export interface MockDriver extends TaskDriver {
  /** Every spec passed to a successful `start`, in order. */
  readonly started: readonly TaskSpec[];
  /** Ids of tasks that have started and not yet ended. */
  running(): string[];
}

interface MockTask {
  handle: TaskHandle;
  exit?: TaskExit;
  exited: Promise<TaskExit>;
  finish: (exit: TaskExit) => void;
  timer?: NodeJS.Timeout;
}

function isFailureReason(value: string): value is FailureReason {
  return value in FailureReason;
}

/** Creates an empty mock driver (kind `wasm` unless told otherwise). */
export function createMockDriver(options: { kind?: TaskDriver['kind'] } = {}): MockDriver {
  const kind = options.kind ?? 'wasm';
  const tasks = new Map<string, MockTask>();
  const started: TaskSpec[] = [];

  function scriptedExit(spec: TaskSpec): TaskExit {
    const reason = spec.labels[MockLabels.failReason];
    if (reason !== undefined && isFailureReason(reason)) {
      return { state: 'TASK_FAILED', reason, message: failureMessage(reason, 'scripted failure') };
    }
    const code = Number(spec.labels[MockLabels.exitCode] ?? '0');
    if (code === 0) return { state: 'TASK_FINISHED', message: 'exited with code 0', exitCode: 0 };
    const message = failureMessage(FailureReason.NONZERO_EXIT, `exited with code ${code}`);
    return { state: 'TASK_FAILED', reason: FailureReason.NONZERO_EXIT, message, exitCode: code };
  }

  return {
    kind,
    started,

    running() {
      return [...tasks.entries()].filter(([, t]) => !t.exit).map(([id]) => id);
    },

    async start(spec) {
      const existing = tasks.get(spec.taskId);
      if (existing) return existing.handle;
      const startError = spec.labels[MockLabels.startError];
      if (startError !== undefined && isFailureReason(startError)) {
        throw new TaskStartError(startError, 'scripted start failure');
      }
      let resolve: (exit: TaskExit) => void = () => undefined;
      const exited = new Promise<TaskExit>((r) => (resolve = r));
      const task: MockTask = {
        handle: { taskId: spec.taskId, kind, startedAt: Date.now() },
        exited,
        finish: (exit) => {
          if (task.exit) return;
          task.exit = exit;
          clearTimeout(task.timer);
          resolve(exit);
        },
      };
      tasks.set(spec.taskId, task);
      started.push(spec);
      for (const line of spec.labels[MockLabels.log]?.split('|') ?? []) spec.onLog('stdout', line);
      const after = spec.labels[MockLabels.exitAfterMs];
      if (after !== undefined) {
        task.timer = setTimeout(() => task.finish(scriptedExit(spec)), Number(after));
      }
      return task.handle;
    },

    async wait(taskId) {
      const task = tasks.get(taskId);
      if (!task) throw new Error(`unknown mock task ${taskId}`);
      return task.exited;
    },

    async stop(taskId) {
      tasks.get(taskId)?.finish({
        state: 'TASK_KILLED',
        reason: FailureReason.KILLED,
        message: failureMessage(FailureReason.KILLED, 'killed on request'),
      });
    },

    async destroy(taskId) {
      await this.stop(taskId);
      tasks.delete(taskId);
    },

    inspect(taskId) {
      return tasks.get(taskId)?.handle;
    },

    async recover(handle) {
      return tasks.has(handle.taskId) && !tasks.get(handle.taskId)?.exit;
    },

    async close() {
      await Promise.all([...tasks.keys()].map((id) => this.stop(id)));
    },
  };
}
