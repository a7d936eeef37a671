// Drives one task through its life on the agent and reports each state change from STARTING on
// (STAGING, where a task begins, is the master's to tell: it stored the launch).
//
//  launch ─► STAGING ─► fetch ─► STARTING ─► driver.start ─► RUNNING ─► wait ─► FINISHED
//               │                   │                                        ├► FAILED (reason)
//               │ fetch fails ──────┴─► FAILED (FETCH_FAILED)                └► KILLED
//               │ start refused ─► FAILED (INVALID_MODULE, FORBIDDEN_IMPORT, MEMORY_LIMIT, …)
//               │ a limit over the agent's maximum ─► FAILED (OUT_OF_FUEL, TIMEOUT, MEMORY_LIMIT)
//               └ kill before start ─► KILLED
//
//  RUNNING ─► kill ─► KILLING ─► (a Wasm task with ports: drained for its kill grace period)
//                                 ─► driver.stop ─► KILLED
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import type { TaskLaunchSpec } from '../bus/index.js';
import type { FailureReason, MesosTaskState } from '../domain/index.js';
import { failureMessage } from '../domain/index.js';
import type { Logger } from '../lib/index.js';
import type { TaskDriver, TaskExit, TaskHandle } from '../runtime/driver.js';
import { TaskStartError } from '../runtime/driver.js';
import { FetchError, type Fetcher, type StagedFiles } from './fetch-artifacts.js';
import { taskEnvironment } from './task-env.js';
import { resolveLimits, type AgentLimits } from './task-limits.js';
import { startHealthChecker, type HealthChecker } from './health-checker.js';
import type { ProbeResult } from './health-probe.js';

export interface TaskReport {
  state: MesosTaskState;
  message?: string;
  reason?: FailureReason;
  exitCode?: number;
  fuelUsed?: number;
}

export interface TaskRunner {
  readonly taskId: string;
  readonly spec: TaskLaunchSpec;
  /** Latest state (TASK_STAGING until the first report). */
  state(): MesosTaskState;
  /** Runs the task to its end; resolves with the final report (also sent through `report`). */
  run(): Promise<TaskReport>;
  /** Re-attaches to a task an earlier agent process started; resolves with the final report. */
  resume(handle: TaskHandle): Promise<TaskReport>;
  /**
   * Asks the task to stop (idempotent); `run` then ends with KILLED. A running task is first
   * reported TASK_KILLING (balancers take it out of rotation), and a Wasm task with ports keeps
   * serving for its kill grace period (it has no SIGTERM to hear) so requests in flight finish;
   * `shouldDrain: false` (the agent shutting down) skips that wait.
   */
  kill(options?: { shouldDrain?: boolean }): Promise<void>;
}

export interface TaskRunnerOptions {
  taskId: string;
  spec: TaskLaunchSpec;
  driver: TaskDriver;
  /** Without `stage`, every fetch is copied into the sandbox. */
  fetcher: Pick<Fetcher, 'fetchAll'> & Partial<Pick<Fetcher, 'stage'>>;
  /** The agent's defaults and maxima for the `PACER_WASM_*` labels and `mem`. */
  agentLimits: AgentLimits;
  sandboxDir: string;
  host: string;
  logger: Logger;
  report: (report: TaskReport) => void;
  onLog: (stream: 'stdout' | 'stderr', line: string) => void;
  /** Called once the task has ended, before its final state is reported: its last lines go out first. */
  onEnded: () => Promise<void>;
  /** Called once the driver runs the task, with what is needed to find it after a restart. */
  onStarted: (handle: TaskHandle) => void;
  /** Reports one health probe result. */
  onHealth: (check: number, result: ProbeResult) => void;
  /** Runs a command health check beside the task; resolves with its exit code. */
  runCommand: (
    command: string,
    options: { sandboxDir: string; env: Record<string, string>; timeoutMs: number },
  ) => Promise<number>;
  /** How long TASK_STARTING may wait for the report that follows it (default 5 ms). */
  startingHoldMs?: number;
}

/** Longest a Wasm service is drained before it is stopped, whatever its grace period says. */
export const MAX_DRAIN_MS = 60_000;

function exitReport(exit: TaskExit): TaskReport {
  return {
    state: exit.state,
    message: exit.message,
    reason: exit.reason,
    exitCode: exit.exitCode,
    fuelUsed: exit.fuelUsed,
  };
}

/** How long TASK_STARTING may wait for the TASK_RUNNING (or failure) that follows it. */
const STARTING_HOLD_MS = 5;

export function createTaskRunner(options: TaskRunnerOptions): TaskRunner {
  const { taskId, spec, driver, fetcher, sandboxDir, logger } = options;
  let current: MesosTaskState = 'TASK_STAGING';
  let killRequested = false;
  let started = false;
  /** How long a kill lets the task serve after TASK_KILLING (set once its limits are known). */
  let drainMs = 0;
  /** Resolves when the task has ended (set by `finish`): a drain stops waiting then. */
  let ended: Promise<unknown> | undefined;
  /** The stop that follows a drain, once a kill started one. */
  let draining: Promise<void> | undefined;
  let health: HealthChecker | undefined;
  /** Files the driver copies in when it makes the sandbox (kept in the cache until the end). */
  let staged: StagedFiles | undefined;
  const env = taskEnvironment({ taskId, spec, host: options.host, sandboxDir });

  /**
   * The fetched files: staged for a driver that makes the sandbox on first need, unless a command
   * health check runs in the sandbox (it expects the files there from the start); else copied.
   */
  async function fetchFiles(): Promise<Record<string, string>> {
    const isDeferred =
      driver.makesSandbox === true && !spec.healthChecks?.some((c) => c.protocol === 'COMMAND');
    const fetchOptions = { diskMiB: spec.resources.diskMiB };
    staged = isDeferred ? await fetcher.stage?.(spec.fetch, sandboxDir, fetchOptions) : undefined;
    if (staged) return staged.digests;
    await mkdir(sandboxDir, { recursive: true });
    return fetcher.fetchAll(spec.fetch, sandboxDir, fetchOptions);
  }

  /** Removes the sandbox (if it was made) and lets the cache evict the staged files. */
  async function cleanUp(): Promise<void> {
    // The task has ended, so a driver making its sandbox no longer will: a sandbox never made
    // (most staged tasks) costs one stat here, not an rm's thread-pool round trips (profiled at
    // ~0.2 ms of the event loop per killed task).
    const isMade = !staged || existsSync(sandboxDir);
    if (isMade) await rm(sandboxDir, { recursive: true, force: true });
    await staged?.release();
    staged = undefined;
  }

  function checkHealth(): void {
    if (!spec.healthChecks?.length) return;
    health = startHealthChecker({
      checks: spec.healthChecks,
      context: {
        host: '127.0.0.1',
        ports: spec.ports,
        runCommand: (command, timeoutMs) =>
          options.runCommand(command, { sandboxDir, env, timeoutMs }),
      },
      report: options.onHealth,
    });
  }

  /** A report held back until its time is up or another report follows (see `run`). */
  let held: { report: TaskReport; timer: NodeJS.Timeout } | undefined;

  function sendHeld(): void {
    if (!held) return;
    clearTimeout(held.timer);
    const { report: pending } = held;
    held = undefined;
    options.report(pending);
  }

  function report(next: TaskReport): TaskReport {
    sendHeld();
    current = next.state;
    options.report(next);
    return next;
  }

  /** Reports `next` within `holdMs`, or together with the report that follows it sooner. */
  function reportSoon(next: TaskReport, holdMs: number): void {
    sendHeld();
    current = next.state;
    held = { report: next, timer: setTimeout(sendHeld, holdMs) };
  }

  const killed = (): TaskReport =>
    report({
      state: 'TASK_KILLED',
      reason: 'KILLED',
      message: failureMessage('KILLED', 'killed before it started'),
    });

  async function finish(): Promise<TaskReport> {
    checkHealth();
    const waiting = driver.wait(taskId);
    ended = waiting;
    const exit = await waiting;
    health?.stop();
    await driver.destroy(taskId);
    await options.onEnded();
    await cleanUp();
    logger.info({ taskId, state: exit.state, message: exit.message }, 'task ended');
    return report(exitReport(exit));
  }

  /** Waits `drainMs`, or less if the task ends meanwhile. */
  async function drain(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const over = new Promise<void>((resolve) => (timer = setTimeout(resolve, drainMs)));
    try {
      await Promise.race([over, ended ?? over]);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    taskId,
    spec,
    state: () => current,

    async run() {
      // No TASK_STAGING report: the task is TASK_STAGING from its launch on, and the master
      // told so when it stored the placement (Marathon's Provisioned). Mesos' executors, too,
      // report from TASK_STARTING on. One update fewer per launch, for agent and master alike.
      const limits = resolveLimits(spec, options.agentLimits);
      if (!limits.ok) {
        return report({
          state: 'TASK_FAILED',
          reason: limits.reason,
          message: failureMessage(limits.reason, limits.message),
        });
      }
      // Only a Wasm task needs the wait: a command or container hears SIGTERM and drains itself.
      if (spec.kind === 'wasm' && spec.ports.length > 0) {
        drainMs = Math.min(Math.max(0, limits.limits.killGracePeriodMs), MAX_DRAIN_MS);
      }
      let fileDigests: Record<string, string>;
      try {
        fileDigests = await fetchFiles();
      } catch (error) {
        if (!(error instanceof FetchError)) throw error;
        return report({
          state: 'TASK_FAILED',
          reason: 'FETCH_FAILED',
          message: failureMessage('FETCH_FAILED', error.message),
        });
      }
      if (killRequested) {
        await cleanUp();
        return killed();
      }
      // A Wasm task starts in about a millisecond: TASK_STARTING then goes out with TASK_RUNNING,
      // and the master stores both in one write instead of one write after the other. A slow
      // start (a container) still tells of STARTING within STARTING_HOLD_MS.
      reportSoon({ state: 'TASK_STARTING' }, options.startingHoldMs ?? STARTING_HOLD_MS);
      try {
        const handle = await driver.start({
          taskId,
          kind: spec.kind,
          sandboxDir,
          cmd: spec.cmd,
          args: spec.args,
          env,
          limits: limits.limits,
          ports: spec.ports,
          container: spec.container,
          labels: spec.labels,
          fileDigests,
          ...(staged ? { sandboxFiles: staged.files } : {}),
          onLog: options.onLog,
        });
        started = true;
        options.onStarted(handle);
      } catch (error) {
        await cleanUp();
        if (!(error instanceof TaskStartError)) throw error;
        return report({ state: 'TASK_FAILED', reason: error.reason, message: error.message });
      }
      logger.info({ taskId, appId: spec.appId, kind: spec.kind }, 'task running');
      report({ state: 'TASK_RUNNING' });
      if (killRequested) await driver.stop(taskId);
      return finish();
    },

    async resume(handle) {
      if (!(await driver.recover(handle, options.onLog))) {
        return report({
          state: 'TASK_GONE',
          message: failureMessage('KILLED', 'the task did not survive the agent restart'),
        });
      }
      started = true;
      report({ state: 'TASK_RUNNING' });
      // A kill that arrived while the driver was re-attaching found nothing to stop yet.
      if (killRequested) await driver.stop(taskId);
      return finish();
    },

    async kill(killOptions) {
      killRequested = true;
      if (!started) return;
      if (current === 'TASK_RUNNING') {
        // Marathon's TASK_KILLING: the kill has begun. Balancers (marathon-lb, `pacer lb`) stop
        // sending new requests to the task while those in flight finish.
        report({ state: 'TASK_KILLING' });
        if (drainMs > 0 && (killOptions?.shouldDrain ?? true)) {
          // In the background: the agent's command loop does not wait out the drain, and a kill
          // delivered again meanwhile (at-least-once) finds the task KILLING and waits too.
          draining = drain()
            .then(() => driver.stop(taskId))
            .catch((error: unknown) => logger.warn({ taskId, err: error }, 'stop after drain'));
          return;
        }
      }
      // A kill again while draining leaves the drain to end; the agent shutting down does not.
      if (draining && (killOptions?.shouldDrain ?? true)) return;
      await driver.stop(taskId);
    },
  };
}
