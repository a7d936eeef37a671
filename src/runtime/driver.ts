// The one interface every workload goes through (Nomad's driver model): wasm, command, container, mock.
import type { Container, FailureReason, TaskKind } from '../domain/index.js';

export interface TaskLimits {
  cpus: number;
  memMiB: number;
  diskMiB: number;
  /** Wasm fuel budget (instructions, roughly); undefined = the driver's default. */
  fuel?: bigint;
  /** Wall-clock limit; undefined = the driver's default (0 = none). */
  timeoutMs?: number;
  /** Between the polite stop and the hard kill. */
  killGracePeriodMs: number;
}

/** A fetched file the driver copies to the top of the sandbox when it makes it. */
export interface SandboxFile {
  /** Its name in the sandbox. */
  name: string;
  /** The agent's cached copy (kept from eviction until the task has ended). */
  from: string;
  isExecutable: boolean;
}

export interface TaskSpec {
  taskId: string;
  kind: TaskKind;
  /**
   * The directory holding the fetched files; the task's only writable place. It exists, unless
   * `sandboxFiles` is given.
   */
  sandboxDir: string;
  /**
   * Given only to a driver that `makesSandbox`: `sandboxDir` does not exist yet, and the driver
   * makes it (sandbox-files.ts) with these files in it before anything of the task can reach a
   * file, so a task that never opens one costs the agent no directory and no copy (two new
   * inodes per launch and their removal: the largest share of a launch's CPU, profiled).
   */
  sandboxFiles?: SandboxFile[];
  /** Marathon's `cmd` (run by `/bin/sh -c` for commands; split into argv for Wasm). */
  cmd?: string;
  /** Marathon's `args` (argv as given). */
  args?: string[];
  env: Record<string, string>;
  limits: TaskLimits;
  ports: number[];
  container?: Container;
  labels: Record<string, string>;
  /**
   * The sha256 (hex) of files the agent copied to the top of the sandbox from its artifact cache,
   * by name: a driver may take them instead of reading and hashing a file (the Wasm driver's
   * compiled-module cache is keyed by it). Nothing has run in the sandbox since they were copied.
   */
  fileDigests?: Record<string, string>;
  /** Called for each line the task writes (bounded length); may be called from any tick. */
  onLog: (stream: 'stdout' | 'stderr', line: string) => void;
}

export interface TaskHandle {
  taskId: string;
  kind: TaskKind;
  /** epoch ms */
  startedAt: number;
  /** Driver-specific data needed to find the task again after an agent restart (pid, container id). */
  recoveryData?: Record<string, unknown>;
}

export interface TaskExit {
  state: 'TASK_FINISHED' | 'TASK_FAILED' | 'TASK_KILLED';
  reason?: FailureReason;
  /** Starts with the reason code when there is one (`TRAP: unreachable executed`). */
  message: string;
  exitCode?: number;
  fuelUsed?: number;
}

/** A failure found before the task began (bad module, forbidden import, memory over the cap). */
export class TaskStartError extends Error {
  constructor(
    readonly reason: FailureReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${reason}: ${message}`, options);
    this.name = 'TaskStartError';
  }
}

export interface TaskDriver {
  readonly kind: TaskKind;
  /** True when the driver accepts `TaskSpec.sandboxFiles` (makes the sandbox on first need). */
  readonly makesSandbox?: boolean;
  /**
   * Starts the task. Resolves once it runs (Wasm: `_start` entered). Rejects with
   * `TaskStartError` when it cannot start; anything after that is reported by `wait`.
   */
  start(spec: TaskSpec): Promise<TaskHandle>;
  /** Resolves once the task has ended. May be called any number of times. */
  wait(taskId: string): Promise<TaskExit>;
  /** Polite stop, then kill after `killGracePeriodMs`. Idempotent; the exit is `TASK_KILLED`. */
  stop(taskId: string): Promise<void>;
  /** Frees everything the task held once it ended. Idempotent. */
  destroy(taskId: string): Promise<void>;
  /** The handle of a known task, or undefined. */
  inspect(taskId: string): TaskHandle | undefined;
  /**
   * Fuel a running metered task has used so far (Wasm: as of its last host call or fuel slice;
   * a handler: its requests'), or undefined when the driver does not meter it or the task is
   * not running. Cheap (no message to the task's thread): called for every task on each offer.
   */
  fuelUsed?(taskId: string): number | undefined;
  /**
   * Re-attaches to a task started by an earlier agent process; false when it is gone. A task
   * that ended while no agent ran is still found: `wait` then reports how it ended. `onLog`
   * receives the lines the task writes from now on (drivers that cannot re-attach ignore it).
   */
  recover(handle: TaskHandle, onLog?: TaskSpec['onLog']): Promise<boolean>;
  /** Stops all tasks and frees pooled resources (agent shutdown). */
  close(): Promise<void>;
}
