// What the command and container drivers share about a task that is an OS process: its record,
// stopping it once, reading its recovery data, and the driver methods that only look it up.
import { stat } from 'node:fs/promises';
import type { z } from 'zod';
import type { Logger } from '../../lib/index.js';
import type { TaskDriver, TaskExit, TaskHandle, TaskSpec } from '../driver.js';
import type { StopCause } from './task-exit.js';

export interface ProcessTask<TData> {
  handle: TaskHandle;
  /** What the driver needs to find the task again after an agent restart. */
  data: TData;
  onLog: TaskSpec['onLog'] | undefined;
  timers: NodeJS.Timeout[];
  /** Why the driver ended the task, when it did (the first cause wins). */
  stopCause?: StopCause;
  stopping?: Promise<void>;
  /** The task ended on its own and its exit is being collected. */
  isFinalizing: boolean;
  exit?: TaskExit;
  exited: Promise<TaskExit>;
  resolveExit: (exit: TaskExit) => void;
}

/** A fresh record; the driver adds what only it keeps (followers, cgroup, …). */
export function newProcessTask<TData>(options: {
  handle: TaskHandle;
  data: TData;
  onLog: TaskSpec['onLog'] | undefined;
}): ProcessTask<TData> {
  let resolveExit!: (exit: TaskExit) => void;
  const exited = new Promise<TaskExit>((resolve) => (resolveExit = resolve));
  return { ...options, timers: [], isFinalizing: false, exited, resolveExit };
}

/**
 * Ends a running task once and resolves when it has exited: the first cause wins, and a task
 * already ending on its own keeps its own exit. `stop` does the driver's part (signals, engine).
 */
export function stopProcessTask<TData>(
  task: ProcessTask<TData>,
  options: { cause: StopCause; logger: Logger; stop: () => Promise<void> },
): Promise<void> {
  if (task.exit) return Promise.resolve();
  if (task.isFinalizing) return task.exited.then(() => undefined);
  if (task.stopping) return task.stopping;
  task.stopCause = options.cause;
  options.logger.info({ taskId: task.handle.taskId, cause: options.cause.kind }, 'stopping task');
  task.stopping = options.stop();
  return task.stopping;
}

/** The recovery data of a handle, or undefined (logged) when an older agent wrote another shape. */
export function readRecoveryData<TData>(options: {
  schema: z.ZodType<TData>;
  handle: TaskHandle;
  logger: Logger;
}): TData | undefined {
  const parsed = options.schema.safeParse(options.handle.recoveryData);
  if (parsed.success) return parsed.data;
  options.logger.warn(
    { taskId: options.handle.taskId, issues: parsed.error.issues },
    'recovery data of a task is unusable',
  );
  return undefined;
}

/**
 * The driver methods that only look a task up: `wait`, `stop`, `inspect`, `destroy` (stop, then
 * `free` what the task held) and `close` (stop all in parallel, since each may wait out its grace
 * period, then free them all).
 */
export function processTaskMethods<TData, TTask extends ProcessTask<TData>>(options: {
  noun: string;
  tasks: Map<string, TTask>;
  end: (task: TTask) => Promise<void>;
  free: (task: TTask) => Promise<void>;
}): Pick<TaskDriver, 'wait' | 'stop' | 'inspect' | 'destroy' | 'close'> {
  const { noun, tasks, end, free } = options;
  const methods: Pick<TaskDriver, 'wait' | 'stop' | 'inspect' | 'destroy' | 'close'> = {
    async wait(taskId) {
      const task = tasks.get(taskId);
      if (!task) throw new Error(`Unknown ${noun} task ${taskId}`);
      return task.exited;
    },
    async stop(taskId) {
      const task = tasks.get(taskId);
      if (task) await end(task);
    },
    inspect(taskId) {
      return tasks.get(taskId)?.handle;
    },
    async destroy(taskId) {
      const task = tasks.get(taskId);
      if (!task) return;
      await end(task);
      await free(task);
      tasks.delete(taskId);
    },
    async close() {
      await Promise.all([...tasks.values()].map(end));
      for (const taskId of [...tasks.keys()]) await methods.destroy(taskId);
    },
  };
  return methods;
}

/** Size of a file in bytes; 0 when it does not exist (yet). */
export async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}
