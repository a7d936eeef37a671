// The container TaskDriver: `container.docker.image` run by podman (or the docker CLI) with the
// task's cpus, mem, ports, env, labels and kill grace, images from the local store only unless
// pulls are allowed, logs followed from the engine's log file, and recover by container name.
//
//   start ─► image in local store? ─no─► TaskStartError FETCH_FAILED
//     └─► run -d (name = task id) ─► inspect (conmon / init pid) ─► follow log file ─► onLog
//   watch: pid gone ─► inspect until exited ─► ExitCode, OOMKilled, memory peak ─► TaskExit
//   stop: `stop -t <grace s>` (SIGTERM, SIGKILL after the grace) ─► TASK_KILLED
import type { WriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { HostAccess } from '../../domain/index.js';
import type { Logger } from '../../lib/index.js';
import { TaskStartError, type TaskDriver, type TaskHandle, type TaskSpec } from '../driver.js';
import {
  openAppendOnly,
  canUseMemoryCgroup,
  createFileFollower,
  createLineSplitter,
  DEFAULT_MEMORY_CGROUP_ROOT,
  diskUsageBytes,
  isProcessRunning,
  readProcessStat,
  toTaskExit,
  type FileFollower,
  type StopCause,
  fileSize,
  newProcessTask,
  processTaskMethods,
  readRecoveryData,
  stopProcessTask,
  type ProcessTask,
} from '../command/index.js';
import {
  detectContainerEngine,
  runEngine,
  type ContainerEngineInfo,
  type ContainerEngineName,
} from './container-engine.js';
import { parseLogRecord } from './container-log.js';
import {
  containerEnv,
  containerRunArgs,
  ContainerSpecError,
  envFileOf,
} from './container-run-args.js';
import { resolveVolumeSources } from './container-volumes.js';

export interface ContainerDriverOptions {
  logger: Logger;
  /** `--cpu-limit`: 'hard' (default) caps a container at its cpus; 'shares' only weighs it. */
  cpuLimit?: 'shares' | 'hard';
  engine: ContainerEngineName;
  /** OCI runtime passed as `--runtime` (`runc` where crun does not work). */
  runtime?: string;
  /** Let the engine pull missing images (`forcePullImage` then pulls always). Default false: `--pull never`. */
  allowPull?: boolean;
  /** Per-task state (log and env files) that must outlive the agent process. Default: `<tmp>/pacer-containers`. */
  stateDir?: string;
  /** `--ulimit` values; default (podman): the agent's own open-files limit and at most 32768 processes. */
  ulimits?: string[];
  /**
   * Host directories volumes may use and docker parameter keys passed on (the operator's
   * `--allow-host-volume` / `--allow-docker-parameter`). Default: none of either.
   */
  hostAccess?: HostAccess;
  /** Where the sandbox is mounted inside the container (and what MESOS_SANDBOX says). */
  sandboxMountPath?: string;
  memoryCgroupRoot?: string;
  /** Wall-clock limit when `limits.timeoutMs` is undefined; 0 (default) = none. */
  defaultTimeoutMs?: number;
  /** Longer stdout/stderr lines are cut into pieces of this many bytes (default 4096). */
  maxLogLineBytes?: number;
  /** How often the sandbox's disk use is measured (default 5000 ms). */
  diskCheckIntervalMs?: number;
  /** How often the watched pid is looked at and logs are polled besides inotify (default 250 ms). */
  pollIntervalMs?: number;
}

const ContainerRecoveryData = z.object({
  driver: z.literal('container'),
  engine: z.enum(['podman', 'docker']),
  name: z.string(),
  containerId: z.string(),
  taskStateDir: z.string(),
  logFile: z.string(),
  logFormat: z.enum(['k8s-file', 'json-file']),
  sandboxDir: z.string(),
  /** conmon (podman) or the container's init (docker): it exits when the container does. */
  watchPid: z.number().int(),
  watchStartTicks: z.number().int(),
  /** Memory cgroup that parents the container (and conmon), for its peak use. */
  memoryCgroupPath: z.string().optional(),
  memMiB: z.number(),
  diskMiB: z.number(),
  killGracePeriodMs: z.number(),
  timeoutMs: z.number(),
});
type ContainerRecoveryData = z.infer<typeof ContainerRecoveryData>;

interface ContainerTask extends ProcessTask<ContainerRecoveryData> {
  follower?: FileFollower;
  /** Emits what the log still holds and closes the sandbox copies. */
  finishLogs: () => Promise<void>;
}

interface InspectedState {
  Status?: string;
  Running?: boolean;
  ExitCode?: number;
  OOMKilled?: boolean;
  Pid?: number;
  ConmonPid?: number;
  StartedAt?: string;
}

interface Inspected {
  Id: string;
  State?: InspectedState;
  LogPath?: string;
}

const MiB = 1024 * 1024;
/** conmon splits long lines into partial records of about 8 KiB; a record line is never longer than this. */
const MAX_RECORD_BYTES = 1024 * 1024;
const MISSING_IMAGE =
  /image not known|no such image|unable to find image|manifest unknown|not found in.*registr/i;

/** Creates the driver. The engine is looked at once, on first use (see `detectContainerEngine` for the start check). */
export function createContainerDriver(options: ContainerDriverOptions): TaskDriver {
  const logger = options.logger.child({ driver: 'container', engine: options.engine });
  const stateDir = options.stateDir ?? path.join(tmpdir(), 'pacer-containers');
  const sandboxMountPath = options.sandboxMountPath ?? '/mnt/mesos/sandbox';
  const memoryRoot = options.memoryCgroupRoot ?? DEFAULT_MEMORY_CGROUP_ROOT;
  const maxLogLineBytes = options.maxLogLineBytes ?? 4096;
  const diskCheckIntervalMs = options.diskCheckIntervalMs ?? 5000;
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  const tasks = new Map<string, ContainerTask>();
  const hostAccess: HostAccess = options.hostAccess ?? { volumes: [], dockerParameters: [] };

  let ready:
    | Promise<{ info: ContainerEngineInfo; ulimits: string[]; canParentCgroups: boolean }>
    | undefined;
  const engineReady = () =>
    (ready ??= (async () => {
      const info = await detectContainerEngine(options.engine, { logger });
      if (!info) throw new Error(`container engine ${options.engine} does not work on this host`);
      await mkdir(stateDir, { recursive: true });
      const ulimits = options.ulimits ?? (info.engine === 'podman' ? await defaultUlimits() : []);
      // Naming the parent by path needs cgroupfs; reading its peak needs cgroup v1 and access.
      const canParentCgroups =
        info.cgroupManager === 'cgroupfs' &&
        info.cgroupVersion === 'v1' &&
        (await canUseMemoryCgroup(memoryRoot));
      logger.info({ version: info.version, ulimits, canParentCgroups }, 'container engine ready');
      return { info, ulimits, canParentCgroups };
    })());

  // COMPAT: conmon before 2.1.13 (podman < 5.2, Debian 12's) also creates an empty `oom` file in
  // its working directory when a container hits its memory limit (containers/conmon#504); the
  // engine runs in the state directory so that file lands there. Remove with those versions.
  const engine = async (args: string[], timeoutMs?: number) =>
    runEngine((await engineReady()).info.path, args, { timeoutMs, cwd: stateDir });

  async function inspect(name: string): Promise<Inspected | undefined> {
    const result = await engine(['inspect', '--type', 'container', name]);
    if (result.code !== 0) return undefined;
    const [first] = JSON.parse(result.stdout) as Inspected[];
    return first;
  }

  function newTask(
    handle: TaskHandle,
    data: ContainerRecoveryData,
    onLog: TaskSpec['onLog'] | undefined,
  ): ContainerTask {
    return { ...newProcessTask({ handle, data, onLog }), finishLogs: async () => {} };
  }

  /**
   * Follows the engine's log into onLog and `copies` (the sandbox's stdout/stderr, opened by the
   * caller); arms timers and the exit watch.
   */
  function watchTask(task: ContainerTask, logOffset: number, copies: LogCopies): void {
    const { data } = task;
    const records = createLineSplitter({ maxLineBytes: MAX_RECORD_BYTES });
    const lines = {
      stdout: createLineSplitter({ maxLineBytes: maxLogLineBytes }),
      stderr: createLineSplitter({ maxLineBytes: maxLogLineBytes }),
    };
    for (const copy of Object.values(copies)) {
      copy.on('error', (error) =>
        logger.warn({ err: error, taskId: task.handle.taskId }, 'copying log to sandbox failed'),
      );
    }
    const emit = (stream: 'stdout' | 'stderr', texts: string[]) => {
      for (const line of texts) task.onLog?.(stream, line);
    };
    const follower = createFileFollower({
      file: data.logFile,
      offset: logOffset,
      pollIntervalMs,
      onData: (bytes) => {
        for (const line of records.push(bytes)) {
          const record = parseLogRecord(data.logFormat, line);
          if (!record) continue;
          copies[record.stream].write(record.text);
          emit(record.stream, lines[record.stream].push(Buffer.from(record.text)));
        }
      },
      onError: (error) =>
        logger.warn({ err: error, taskId: task.handle.taskId }, 'reading container log failed'),
    });
    task.follower = follower;
    task.finishLogs = async () => {
      await follower.finish();
      emit('stdout', lines.stdout.flush());
      emit('stderr', lines.stderr.flush());
      await Promise.all(
        Object.values(copies).map((copy) => new Promise((resolve) => copy.end(resolve))),
      );
    };

    if (data.timeoutMs > 0) {
      const left = task.handle.startedAt + data.timeoutMs - Date.now();
      task.timers.push(
        setTimeout(
          () => {
            endTask(task, { kind: 'timeout', timeoutMs: data.timeoutMs }).catch((error: unknown) =>
              logger.error(
                { err: error, taskId: task.handle.taskId },
                'stopping a timed-out container failed',
              ),
            );
          },
          Math.max(0, left),
        ),
      );
    }
    if (data.diskMiB > 0) {
      let isChecking = false;
      const timer = setInterval(() => {
        if (isChecking || task.exit) return;
        isChecking = true;
        diskUsageBytes(data.sandboxDir)
          .then(async (usedBytes) => {
            if (usedBytes > data.diskMiB * MiB)
              await endTask(task, { kind: 'disk', usedBytes, diskMiB: data.diskMiB });
          })
          .catch((error: unknown) =>
            logger.warn({ err: error, taskId: task.handle.taskId }, 'disk check failed'),
          )
          .finally(() => (isChecking = false));
      }, diskCheckIntervalMs);
      timer.unref();
      task.timers.push(timer);
    }
    const watch = setInterval(() => {
      isProcessRunning(data.watchPid, data.watchStartTicks)
        .then(async (isRunning) => {
          if (isRunning || task.isFinalizing) return;
          clearInterval(watch);
          await finalize(task);
        })
        .catch((error: unknown) =>
          logger.error({ err: error, taskId: task.handle.taskId }, 'watching container failed'),
        );
    }, pollIntervalMs);
    task.timers.push(watch);
  }

  /** The container has ended (or its monitor has): collect status, OOM verdict and last logs. Runs once. */
  async function finalize(task: ContainerTask): Promise<void> {
    if (task.isFinalizing) return;
    task.isFinalizing = true;
    for (const timer of task.timers) clearTimeout(timer);
    const { data } = task;
    // The monitor may exit a moment before the engine has recorded the exit.
    let state: InspectedState | undefined;
    const deadline = Date.now() + 10_000;
    for (;;) {
      state = (await inspect(data.name))?.State;
      if (!state || !state.Running || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await task.finishLogs();
    const exitCode = state && !state.Running ? state.ExitCode : undefined;
    const isOutOfMemory =
      state?.OOMKilled === true ||
      (exitCode !== undefined && exitCode !== 0 && (await hitMemoryLimit(data, exitCode)));
    const exit = toTaskExit({
      noun: 'Container',
      exitCode,
      stopCause: task.stopCause,
      isOutOfMemory,
      memMiB: data.memMiB,
    });
    task.exit = exit;
    logger.info(
      { taskId: task.handle.taskId, state: exit.state, message: exit.message },
      'container task ended',
    );
    task.resolveExit(exit);
  }

  /**
   * podman (4.x, cgroup v1) does not always set OOMKilled, and the container's own cgroup is gone
   * by the time we look. The parent cgroup's peak reaching `mem` (or, without one, death by
   * SIGKILL that we did not send) is taken as the OOM kill it almost always is.
   */
  async function hitMemoryLimit(data: ContainerRecoveryData, exitCode: number): Promise<boolean> {
    if (data.memMiB <= 0) return false;
    if (!data.memoryCgroupPath) return exitCode === 137;
    try {
      const peak = Number(
        (
          await readFile(path.join(data.memoryCgroupPath, 'memory.max_usage_in_bytes'), 'utf8')
        ).trim(),
      );
      return peak >= data.memMiB * MiB;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return exitCode === 137;
      throw error;
    }
  }

  /** Ends a running task: the engine's stop (SIGTERM, SIGKILL after the grace period). */
  function endTask(task: ContainerTask, cause: StopCause): Promise<void> {
    return stopProcessTask(task, {
      cause,
      logger,
      stop: async () => {
        const graceSeconds = Math.ceil(task.data.killGracePeriodMs / 1000);
        const result = await engine(
          ['stop', '--time', String(graceSeconds), task.data.name],
          graceSeconds * 1000 + 60_000,
        );
        if (result.code !== 0) {
          logger.warn(
            { taskId: task.handle.taskId, stderr: result.stderr.trim() },
            'container stop failed; killing',
          );
          await engine(['kill', '--signal', 'KILL', task.data.name]);
        }
        await finalize(task);
      },
    });
  }

  async function removeContainer(name: string): Promise<void> {
    await engine(['rm', '--force', name]);
  }

  const driver: TaskDriver = {
    kind: 'container',

    async start(spec) {
      const known = tasks.get(spec.taskId);
      if (known) return known.handle;
      const { info, ulimits, canParentCgroups } = await engineReady();
      const image = spec.container?.docker?.image;
      if (!image)
        throw new TaskStartError(
          'FETCH_FAILED',
          `Task ${spec.taskId} has no container.docker.image`,
        );
      const allowPull = options.allowPull ?? false;
      const name = containerNameOf(spec.taskId);
      const taskStateDir = path.join(stateDir, name);
      await rm(taskStateDir, { recursive: true, force: true });
      await mkdir(taskStateDir, { recursive: true });
      const envFile = path.join(taskStateDir, 'env');
      const logFile = path.join(taskStateDir, 'container.log');
      const cgroupParent = canParentCgroups ? `/pacer/${name}` : undefined;
      let args: string[];
      let copies: LogCopies;
      try {
        const env = envFileOf(containerEnv(spec, sandboxMountPath));
        await writeFile(envFile, env.text, { mode: 0o600 });
        const volumeSources = await resolveVolumeSources({ spec, hostAccess });
        args = containerRunArgs({
          engine: info.engine,
          name,
          spec,
          runtime: options.runtime,
          cpuLimit: options.cpuLimit,
          pull: allowPull
            ? spec.container?.docker?.forcePullImage
              ? 'always'
              : 'missing'
            : 'never',
          logFile: info.engine === 'podman' ? logFile : undefined,
          envFile,
          cgroupParent,
          ulimits,
          sandboxMountPath,
          hostAccess,
          volumeSources,
        });
        // Opened before the container exists, so nothing of it can have swapped them yet.
        copies = await openLogCopies(spec.sandboxDir);
      } catch (error) {
        if (error instanceof ContainerSpecError)
          throw new TaskStartError('FETCH_FAILED', error.message, { cause: error });
        throw error;
      }
      // One engine call on the happy path: a missing image, or a leftover container of a start
      // that crashed before it returned, shows up as run's own failure.
      const conmonPidFile = path.join(taskStateDir, 'conmon.pid');
      const runArgs =
        info.engine === 'podman'
          ? ['run', '--conmon-pidfile', conmonPidFile, ...args.slice(1)]
          : args;
      const runTimeoutMs = allowPull ? 15 * 60_000 : 120_000;
      let run = await engine(runArgs, runTimeoutMs);
      if (run.code !== 0 && /already in use/i.test(run.stderr)) {
        await removeContainer(name);
        run = await engine(runArgs, runTimeoutMs);
      }
      if (run.code !== 0) {
        const stderr = run.stderr.trim();
        await closeLogCopies(copies);
        await removeContainer(name);
        await removeCgroupParent(memoryRoot, cgroupParent);
        if (!allowPull && MISSING_IMAGE.test(stderr)) {
          throw new TaskStartError(
            'FETCH_FAILED',
            `image '${image}' is not in the local ${info.engine} image store, and this agent does not pull images (${stderr})`,
          );
        }
        if (MISSING_IMAGE.test(stderr))
          throw new TaskStartError('FETCH_FAILED', `image '${image}': ${stderr}`);
        if (run.code === 126 || run.code === 127) {
          throw new TaskStartError(
            'NONZERO_EXIT',
            `the container's command could not be started (status ${run.code}): ${stderr}`,
          );
        }
        throw new Error(`${info.engine} run failed with status ${run.code}: ${stderr}`);
      }
      const containerId = run.stdout.trim().split('\n').pop() ?? '';
      // podman: conmon's pid from its pidfile (no second engine call); docker: the init's pid.
      const inspected = info.engine === 'docker' ? await inspect(name) : undefined;
      const watchPid =
        info.engine === 'podman'
          ? Number((await readFile(conmonPidFile, 'utf8')).trim())
          : (inspected?.State?.Pid ?? 0);
      const watchStat = watchPid > 0 ? await readProcessStat(watchPid) : undefined;
      const data: ContainerRecoveryData = {
        driver: 'container',
        engine: info.engine,
        name,
        containerId,
        taskStateDir,
        logFile: inspected?.LogPath ?? logFile,
        logFormat: info.engine === 'podman' ? 'k8s-file' : 'json-file',
        sandboxDir: spec.sandboxDir,
        watchPid,
        watchStartTicks: watchStat?.startTicks ?? -1,
        ...(cgroupParent ? { memoryCgroupPath: path.join(memoryRoot, cgroupParent) } : {}),
        memMiB: spec.limits.memMiB,
        diskMiB: spec.limits.diskMiB,
        killGracePeriodMs: spec.limits.killGracePeriodMs,
        timeoutMs: spec.limits.timeoutMs ?? options.defaultTimeoutMs ?? 0,
      };
      const startedAt = Date.now();
      const handle: TaskHandle = {
        taskId: spec.taskId,
        kind: 'container',
        startedAt,
        recoveryData: data,
      };
      const task = newTask(handle, data, spec.onLog);
      tasks.set(spec.taskId, task);
      watchTask(task, 0, copies);
      logger.info({ taskId: spec.taskId, image, containerId }, 'container task started');
      return handle;
    },

    ...processTaskMethods({
      noun: 'container',
      tasks,
      end: (task) => endTask(task, { kind: 'killed' }),
      free: async (task) => {
        task.follower?.close();
        await removeContainer(task.data.name);
        await removeCgroupParent(
          memoryRoot,
          task.data.memoryCgroupPath ? `/pacer/${task.data.name}` : undefined,
        );
        await rm(task.data.taskStateDir, { recursive: true, force: true });
      },
    }),

    async recover(handle, onLog) {
      if (tasks.has(handle.taskId)) return true;
      const data = readRecoveryData({ schema: ContainerRecoveryData, handle, logger });
      if (!data) return false;
      const inspected = await inspect(data.name);
      if (!inspected || inspected.Id !== data.containerId) {
        logger.info({ taskId: handle.taskId }, 'container task did not survive');
        await removeCgroupParent(
          memoryRoot,
          data.memoryCgroupPath ? `/pacer/${data.name}` : undefined,
        );
        await rm(data.taskStateDir, { recursive: true, force: true });
        return false;
      }
      const task = newTask(handle, data, onLog);
      tasks.set(handle.taskId, task);
      // Lines written while no agent ran stay in the log file; forwarding resumes at its end.
      watchTask(task, await fileSize(data.logFile), await openLogCopies(data.sandboxDir));
      if (!inspected.State?.Running) await finalize(task);
      logger.info(
        { taskId: handle.taskId, isRunning: inspected.State?.Running },
        'container task recovered',
      );
      return true;
    },
  };
  return driver;
}

/** The sandbox's stdout and stderr, which the driver copies the container's output into. */
type LogCopies = Record<'stdout' | 'stderr', WriteStream>;

/**
 * Opens the sandbox copies the way command tasks' logs are opened: a symlink or hard link the
 * container planted there is replaced, never written through (the engine runs as root).
 */
async function openLogCopies(sandboxDir: string): Promise<LogCopies> {
  const out = await openAppendOnly(path.join(sandboxDir, 'stdout'));
  try {
    const err = await openAppendOnly(path.join(sandboxDir, 'stderr'));
    return { stdout: out.handle.createWriteStream(), stderr: err.handle.createWriteStream() };
  } catch (error) {
    await out.handle.close();
    throw error;
  }
}

async function closeLogCopies(copies: LogCopies): Promise<void> {
  await Promise.all(
    Object.values(copies).map((copy) => new Promise((resolve) => copy.end(resolve))),
  );
}

/** Engines accept `[a-zA-Z0-9][a-zA-Z0-9_.-]*`; Marathon task ids already are. */
function containerNameOf(taskId: string): string {
  const safe = taskId.replace(/[^A-Za-z0-9_.-]/g, '_');
  return /^[A-Za-z0-9]/.test(safe) ? safe : `t${safe}`;
}

/** Never above what the agent itself has: runc cannot raise limits here, and fails the start. */
async function defaultUlimits(): Promise<string[]> {
  const text = await readFile('/proc/self/limits', 'utf8').catch(() => '');
  const limit = (label: string): [string, string] | undefined => {
    const match = new RegExp(`^${label}\\s+(\\S+)\\s+(\\S+)`, 'm').exec(text);
    return match?.[1] && match[2] ? [match[1], match[2]] : undefined;
  };
  const cap = (value: string, max: number) =>
    value === 'unlimited' ? max : Math.min(Number(value), max);
  const ulimits: string[] = [];
  const files = limit('Max open files');
  if (files) ulimits.push(`nofile=${cap(files[0], 1048576)}:${cap(files[1], 1048576)}`);
  const processes = limit('Max processes');
  if (processes) ulimits.push(`nproc=${cap(processes[0], 32768)}:${cap(processes[1], 32768)}`);
  return ulimits;
}

/** Removes `<controller>/<relative>` (children first) in every cgroup v1 hierarchy. */
async function removeCgroupParent(memoryRoot: string, relative: string | undefined): Promise<void> {
  if (!relative) return;
  const hierarchies = path.dirname(memoryRoot);
  for (const controller of await readdir(hierarchies).catch(() => [] as string[])) {
    await removeTree(path.join(hierarchies, controller, relative));
  }
}

async function removeTree(dir: string): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return;
    throw error;
  }
  for (const entry of entries)
    if (entry.isDirectory()) await removeTree(path.join(dir, entry.name));
  await rmdir(dir).catch((error: unknown) => {
    // EBUSY: a process the engine has not reaped yet; an empty group left behind costs nothing.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'EBUSY') throw error;
  });
}
