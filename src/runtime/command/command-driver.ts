// The command TaskDriver: Marathon's `cmd` (via /bin/sh -c) or `args` as a native process in
// the task's sandbox, inside bubblewrap when available, with mem, disk, wall-clock time and the
// kill grace period enforced, and a way back to it after an agent restart (issue 6).
//
//   start ─► open sandbox/stdout, sandbox/stderr (no symlinks) ─► their fds become the wrapper's
//     │      stdout/stderr ─► wrapper (detached) ─► [cgroup | ulimit -v] ─► setpriv ─► [pasta] ─► bwrap ─► sh -c cmd
//     │            └─ on exit: status ─► <stateDir>/<task>/exit
//     ├─ follow the files the agent opened (not their paths) ─► onLog
//     ├─ timeout timer, disk check ─► stop(cause)
//     └─ wrapper gone ─► read exit file, OOM count ─► TaskExit
//   stop: SIGTERM to the task's processes ─► killGracePeriodMs ─► SIGKILL to the whole group
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chown, lstat, mkdir, readFile, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../lib/index.js';
import type { TaskDriver, TaskHandle, TaskSpec } from '../driver.js';
import { bubblewrapArgs, detectBubblewrap, probeBubblewrapLayout } from './bubblewrap.js';
import { diskUsageBytes } from './disk-usage.js';
import { createFileFollower, type FileFollower } from './file-follower.js';
import { createLineSplitter } from '../line-splitter.js';
import {
  canUseMemoryCgroup,
  createMemoryCgroup,
  DEFAULT_MEMORY_CGROUP_ROOT,
  openMemoryCgroup,
  type MemoryCgroup,
} from './memory-cgroup.js';
import type { CpuCgroup, CpuHierarchy, CpuLimitMode } from './cpu-cgroup.js';
import { createCpuCgroup, detectCpuHierarchy, openCpuCgroup } from './cpu-cgroup.js';
import {
  fileSize,
  newProcessTask,
  processTaskMethods,
  readRecoveryData,
  stopProcessTask,
  type ProcessTask,
} from './process-task.js';
import { isProcessRunning, listProcessGroup, pidNamespaceOf, sendSignal } from './process-table.js';
import { CommandRecoveryData } from './recovery-data.js';
import { chownTree, unsearchableAncestor } from './sandbox-owner.js';
import { toTaskExit, type StopCause } from './task-exit.js';
import { confineArgs, wrapperArgs } from './task-wrapper.js';
import { findExecutable } from './find-executable.js';
import { openAppendOnly, openForReading, reopenForReading } from './task-files.js';
import { pastaArgs } from './task-network.js';

/** `useBubblewrap: true`, but bwrap is missing or cannot build a sandbox on this host. */
export class SandboxUnavailableError extends Error {
  override readonly name = 'SandboxUnavailableError';
}

/** How `mem` is enforced. */
export type MemoryLimitMode = 'cgroup' | 'address-space' | 'none';

export interface CommandDriverOptions {
  logger: Logger;
  /** Per-task state (exit status files) that must outlive the agent process, e.g. `<work-dir>/command`. */
  stateDir: string;
  /**
   * true: bwrap is required (creation fails without it); false: never used; 'auto' (default):
   * used when it works here, with a warning when it does not. The agent passes true unless its
   * operator allowed unsandboxed commands.
   */
  useBubblewrap?: boolean | 'auto';
  /**
   * 'auto' (default): cgroup v1 memory controller where writable, otherwise an address-space
   * limit (`ulimit -v`), which also counts reserved but unused memory.
   */
  memoryLimit?: 'auto' | MemoryLimitMode;
  /**
   * The user tasks run as. Default: nobody (65534:65534) when the agent runs as root, so that a
   * task cannot read root-only files such as /etc/shadow; 'agent' keeps the agent's own user.
   */
  taskUser?: { uid: number; gid: number } | 'agent';
  /** Default `/sys/fs/cgroup/memory`; task groups go to `<root>/pacer/<task id>`. */
  memoryCgroupRoot?: string;
  /**
   * CPU per task (cpu-cgroup.ts): 'shares' (default) weighs tasks by `cpus` under contention,
   * 'hard' also caps each at `cpus`, 'none' leaves CPU alone. Needs a writable cpu cgroup
   * (v1 or v2); without one the driver warns and runs tasks unweighted.
   */
  cpuLimit?: CpuLimitMode | 'none';
  /** Where to look for the cpu controller (tests); defaults in cpu-cgroup.ts. */
  cpuCgroupRoots?: { v1?: string; v2?: string };
  /** Wall-clock limit when `limits.timeoutMs` is undefined; 0 (default) = none. */
  defaultTimeoutMs?: number;
  /** Longer stdout/stderr lines are cut into pieces of this many bytes (default 4096). */
  maxLogLineBytes?: number;
  /** How often the sandbox's disk use is measured (default 5000 ms). */
  diskCheckIntervalMs?: number;
  /** How often recovered tasks are looked at and logs are polled besides inotify (default 500 ms). */
  pollIntervalMs?: number;
}

/** The command driver plus what it found about this host. */
export interface CommandDriver extends TaskDriver {
  readonly sandboxing: {
    isBubblewrap: boolean;
    /** Tasks with ports get a network namespace of their own from pasta (else they are refused). */
    hasPasta: boolean;
    memoryLimit: MemoryLimitMode;
    taskUser: { uid: number; gid: number } | 'agent';
    /** The CPU cgroup hierarchy tasks are weighed (and capped) in; undefined: none. */
    cpu: (CpuHierarchy & { mode: CpuLimitMode }) | undefined;
  };
}

interface CommandTask extends ProcessTask<CommandRecoveryData> {
  child?: ChildProcess;
  cgroup?: MemoryCgroup;
  cpuCgroup?: CpuCgroup;
  followers: FileFollower[];
  /** Last stderr lines: what the address-space limit leaves behind is a failed allocation's message. */
  recentStderr: string[];
}

const MiB = 1024 * 1024;
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const NOBODY = { uid: 65534, gid: 65534 };
const RECENT_STDERR_LINES = 20;
/** What programs print when an allocation fails under `ulimit -v`. */
const ALLOCATION_FAILURE =
  /memory exhausted|cannot allocate memory|out of memory|bad_alloc|MemoryError|failed to allocate|allocation failed/i;

/** Looks at the host (bwrap, cgroups, setpriv) once, then returns the driver. */
export async function createCommandDriver(options: CommandDriverOptions): Promise<CommandDriver> {
  const logger = options.logger.child({ driver: 'command' });
  const cgroupRoot = options.memoryCgroupRoot ?? DEFAULT_MEMORY_CGROUP_ROOT;
  const maxLogLineBytes = options.maxLogLineBytes ?? 4096;
  const diskCheckIntervalMs = options.diskCheckIntervalMs ?? 5000;
  const pollIntervalMs = options.pollIntervalMs ?? 500;
  const isRoot = process.getuid?.() === 0;
  const taskUser = options.taskUser ?? (isRoot ? NOBODY : 'agent');

  const setprivPath = taskUser === 'agent' ? undefined : await findExecutable('setpriv');
  if (taskUser !== 'agent' && !setprivPath) {
    throw new Error('taskUser is set but setpriv (util-linux) is not on PATH');
  }
  const runAs =
    taskUser === 'agent' || !setprivPath
      ? []
      : [setprivPath, `--reuid=${taskUser.uid}`, `--regid=${taskUser.gid}`, '--clear-groups', '--'];

  const bwrapPath = options.useBubblewrap === false ? undefined : await findExecutable('bwrap');
  const isBubblewrap = bwrapPath !== undefined && (await detectBubblewrap({ bwrapPath, runAs }));
  if (options.useBubblewrap === true && !isBubblewrap) {
    throw new SandboxUnavailableError(
      bwrapPath === undefined
        ? 'bubblewrap (bwrap) is not installed: command tasks cannot be sandboxed'
        : `bubblewrap (${bwrapPath}) cannot build a sandbox on this host (user namespaces disabled?)`,
    );
  }
  if (!isBubblewrap && options.useBubblewrap !== false) {
    logger.warn(
      'COMMAND TASKS RUN UNSANDBOXED: bubblewrap is not usable here; tasks share the host file system and network',
    );
  }
  const layout = isBubblewrap ? await probeBubblewrapLayout() : undefined;
  // The task's own ids inside pasta's user namespace, which maps only the caller (as 0).
  const ids =
    taskUser === 'agent'
      ? { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 }
      : taskUser;
  const pastaPath = isBubblewrap ? await findExecutable('pasta') : undefined;
  const hasPasta =
    bwrapPath !== undefined &&
    pastaPath !== undefined &&
    (await detectBubblewrap({
      bwrapPath,
      runAs,
      network: pastaArgs({ pastaPath, ports: [] }),
      ids,
    }));
  if (isBubblewrap && !hasPasta) {
    logger.warn('pasta (passt) is not usable here: command tasks with ports will be refused');
  }
  const envPath = isBubblewrap ? undefined : await findExecutable('env');

  const wantedMemory = options.memoryLimit ?? 'auto';
  const hasCgroup = await canUseMemoryCgroup(cgroupRoot);
  if (wantedMemory === 'cgroup' && !hasCgroup) {
    throw new Error(
      `memoryLimit is 'cgroup' but ${cgroupRoot} is not a writable cgroup v1 memory hierarchy`,
    );
  }
  const memoryLimit: MemoryLimitMode =
    wantedMemory === 'auto' ? (hasCgroup ? 'cgroup' : 'address-space') : wantedMemory;
  const cpuMode = options.cpuLimit ?? 'shares';
  const cpuHierarchy =
    cpuMode === 'none' ? undefined : await detectCpuHierarchy(options.cpuCgroupRoots);
  if (cpuMode !== 'none' && !cpuHierarchy)
    logger.warn('no writable cpu cgroup: command tasks are not weighed or capped by cpus');
  const ownPidNamespace = await pidNamespaceOf('self');
  await mkdir(options.stateDir, { recursive: true });
  logger.info(
    { isBubblewrap, hasPasta, memoryLimit, taskUser, cpuCgroup: cpuHierarchy?.version, cpuMode },
    'command driver ready',
  );

  const tasks = new Map<string, CommandTask>();

  function newTask(
    handle: TaskHandle,
    data: CommandRecoveryData,
    onLog: TaskSpec['onLog'] | undefined,
  ): CommandTask {
    return { ...newProcessTask({ handle, data, onLog }), followers: [], recentStderr: [] };
  }

  /**
   * Follows the two log files from the given offsets, and arms the timeout and the disk check.
   * `handles` are the files the agent opened itself; without them (after a restart) the paths
   * are opened again, and only the files recorded in `data` are read.
   */
  function watchTask(
    task: CommandTask,
    offsets: { stdout: number; stderr: number },
    handles?: { stdout: FileHandle; stderr: FileHandle },
  ): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      const splitter = createLineSplitter({ maxLineBytes: maxLogLineBytes });
      const emit = (lines: string[]) => {
        for (const line of lines) {
          if (stream === 'stderr') {
            task.recentStderr.push(line);
            if (task.recentStderr.length > RECENT_STDERR_LINES) task.recentStderr.shift();
          }
          task.onLog?.(stream, line);
        }
      };
      const file = stream === 'stdout' ? task.data.stdoutFile : task.data.stderrFile;
      const identity = stream === 'stdout' ? task.data.stdoutIdentity : task.data.stderrIdentity;
      const handle = handles?.[stream];
      const follower = createFileFollower({
        file,
        open: handle ? () => Promise.resolve(handle) : () => openForReading(file, identity),
        offset: offsets[stream],
        pollIntervalMs,
        onData: (bytes) => emit(splitter.push(bytes)),
        onError: (error) =>
          logger.warn({ err: error, taskId: task.handle.taskId }, 'reading task log failed'),
      });
      const finish = follower.finish.bind(follower);
      task.followers.push({
        get offset() {
          return follower.offset;
        },
        close: () => follower.close(),
        finish: async () => {
          await finish();
          emit(splitter.flush());
        },
      });
    }
    if (task.data.timeoutMs > 0) {
      const left = task.handle.startedAt + task.data.timeoutMs - Date.now();
      const onTimeout = () => {
        endTask(task, { kind: 'timeout', timeoutMs: task.data.timeoutMs }).catch((error: unknown) =>
          logger.error(
            { err: error, taskId: task.handle.taskId },
            'stopping a timed-out task failed',
          ),
        );
      };
      task.timers.push(setTimeout(onTimeout, Math.max(0, left)));
    }
    if (task.data.diskMiB > 0) {
      let isChecking = false;
      const check = async () => {
        if (isChecking || task.exit) return;
        isChecking = true;
        try {
          const usedBytes = await diskUsageBytes(task.data.sandboxDir);
          if (usedBytes > task.data.diskMiB * MiB) {
            await endTask(task, { kind: 'disk', usedBytes, diskMiB: task.data.diskMiB });
          }
        } finally {
          isChecking = false;
        }
      };
      const timer = setInterval(() => {
        check().catch((error: unknown) =>
          logger.warn({ err: error, taskId: task.handle.taskId }, 'disk check failed'),
        );
      }, diskCheckIntervalMs);
      timer.unref();
      task.timers.push(timer);
    }
  }

  /** The wrapper is gone: collect its status, the OOM verdict and the last log lines. Runs once. */
  async function finalize(task: CommandTask, wrapperCode: number | null): Promise<void> {
    if (task.isFinalizing) return;
    task.isFinalizing = true;
    for (const timer of task.timers) clearTimeout(timer);
    const { data } = task;
    await killLeftovers(task);
    await Promise.all(task.followers.map((follower) => follower.finish()));
    const exitCode = await readExitFile(data.exitFile, wrapperCode);
    let isOutOfMemory = false;
    if (task.cgroup) isOutOfMemory = (await task.cgroup.oomKills()) > 0 && exitCode !== 0;
    else if (data.memoryLimit === 'address-space' && data.memMiB > 0) {
      isOutOfMemory =
        exitCode !== 0 && task.recentStderr.some((line) => ALLOCATION_FAILURE.test(line));
    }
    const exit = toTaskExit({
      noun: 'Command',
      exitCode,
      stopCause: task.stopCause,
      isOutOfMemory,
      memMiB: data.memMiB,
    });
    task.exit = exit;
    logger.info(
      { taskId: task.handle.taskId, state: exit.state, message: exit.message },
      'command task ended',
    );
    task.resolveExit(exit);
  }

  /**
   * Processes of the task that outlived its wrapper: a leftover background job keeps the group
   * alive (and its pid from being reused), so a group without a member whose pid is the group
   * id is ours; cgroup members are ours by construction.
   */
  async function killLeftovers(task: CommandTask): Promise<void> {
    if (task.cgroup) for (const pid of await task.cgroup.pids()) sendSignal(pid, 'SIGKILL');
    // In bubblewrap the pid namespace ends with its init, taking every leftover with it.
    if (task.data.isBubblewrap) return;
    const members = await listProcessGroup(task.data.pid);
    if (members.length > 0 && !members.some((member) => member.pid === task.data.pid)) {
      sendSignal(-task.data.pid, 'SIGKILL');
    }
  }

  /** SIGTERM to what runs the task: the group, minus the wrapper and bwrap's own processes. */
  async function terminate(task: CommandTask): Promise<void> {
    if (!task.data.isBubblewrap) {
      // The wrapper traps SIGTERM and stays to record the status.
      sendSignal(-task.data.pid, 'SIGTERM');
      return;
    }
    // bwrap outside the sandbox would die of SIGTERM and (die-with-parent) SIGKILL the task at
    // once, so only the group's members inside the sandbox's pid namespace get it. bwrap's init
    // there (pid 1) ignores signals it has no handler for.
    for (const member of await listProcessGroup(task.data.pid)) {
      const namespace = await pidNamespaceOf(member.pid);
      if (namespace !== undefined && namespace !== ownPidNamespace)
        sendSignal(member.pid, 'SIGTERM');
    }
  }

  /** SIGKILL to the whole group (wrapper and bwrap included; the sandbox dies with them) and the cgroup. */
  async function kill(task: CommandTask): Promise<void> {
    if (await isProcessRunning(task.data.pid, task.data.startTicks))
      sendSignal(-task.data.pid, 'SIGKILL');
    if (task.cgroup) for (const pid of await task.cgroup.pids()) sendSignal(pid, 'SIGKILL');
  }

  /** Ends a running task: SIGTERM, then SIGKILL once its grace period is over. */
  function endTask(task: CommandTask, cause: StopCause): Promise<void> {
    return stopProcessTask(task, {
      cause,
      logger,
      stop: async () => {
        await terminate(task);
        let timer: NodeJS.Timeout | undefined;
        const graceOver = new Promise<'grace-over'>((resolve) => {
          timer = setTimeout(() => resolve('grace-over'), task.data.killGracePeriodMs);
        });
        const outcome = await Promise.race([task.exited, graceOver]);
        clearTimeout(timer);
        if (outcome === 'grace-over') await kill(task);
        await task.exited;
      },
    });
  }

  /** Watches a wrapper that is not our child (recovered) by its pid and start time. */
  function pollExit(task: CommandTask): void {
    const timer = setInterval(() => {
      isProcessRunning(task.data.pid, task.data.startTicks)
        .then(async (isRunning) => {
          if (isRunning || task.isFinalizing) return;
          clearInterval(timer);
          await finalize(task, null);
        })
        .catch((error: unknown) =>
          logger.error({ err: error, taskId: task.handle.taskId }, 'watching task failed'),
        );
    }, pollIntervalMs);
    task.timers.push(timer);
  }

  /**
   * Spawns the wrapper with the log files as its stdout and stderr, and starts watching it.
   * The caller opened the files; this closes the agent's copies of the write ends once the
   * wrapper has its own.
   */
  async function launch(input: {
    spec: TaskSpec;
    argv: string[];
    sandboxDir: string;
    taskStateDir: string;
    files: Pick<
      CommandRecoveryData,
      'stdoutFile' | 'stderrFile' | 'stdoutIdentity' | 'stderrIdentity'
    >;
    writers: { stdout: FileHandle; stderr: FileHandle };
    readers: { stdout: FileHandle; stderr: FileHandle };
    offsets: { stdout: number; stderr: number };
  }): Promise<TaskHandle> {
    const { spec, argv, sandboxDir, taskStateDir, files, writers, readers, offsets } = input;
    const { memMiB, diskMiB, killGracePeriodMs } = spec.limits;
    const cgroup =
      memoryLimit === 'cgroup' && memMiB > 0
        ? await createMemoryCgroup({
            root: cgroupRoot,
            name: path.join('pacer', fileNameOf(spec.taskId)),
            limitBytes: memMiB * MiB,
          })
        : undefined;
    const cpuCgroup =
      cpuHierarchy && cpuMode !== 'none' && spec.limits.cpus > 0
        ? await createCpuCgroup({
            hierarchy: cpuHierarchy,
            name: path.join('pacer', fileNameOf(spec.taskId)),
            cpus: spec.limits.cpus,
            mode: cpuMode,
          })
        : undefined;
    const env = { PATH: DEFAULT_PATH, ...spec.env };
    const hasNetwork = layout !== undefined && spec.ports.length > 0 && pastaPath !== undefined;
    const pastaPrefix = hasNetwork && pastaPath ? pastaArgs({ pastaPath, ports: spec.ports }) : [];
    const sandbox = layout
      ? [
          bwrapPath ?? 'bwrap',
          ...bubblewrapArgs({
            layout,
            sandboxDir,
            network: hasNetwork ? 'pasta' : 'none',
            tmpBytes: (memMiB > 0 ? Math.min(memMiB, 64) : 64) * MiB,
            env,
            ...(hasNetwork ? { ids } : {}),
          }),
          '--',
        ]
      : // Unsandboxed: env(1) gives the task its environment after the privilege drop.
        [
          envPath ?? '/usr/bin/env',
          '-i',
          '--',
          ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
        ];
    const exitFile = path.join(taskStateDir, 'exit');
    const confine = confineArgs({
      cgroupProcsFile: cgroup?.procsFile,
      cpuCgroupProcsFile: cpuCgroup?.procsFile,
      addressSpaceKiB: memoryLimit === 'address-space' && memMiB > 0 ? memMiB * 1024 : undefined,
    });
    // pasta is the agent's helper, not the task: it stays outside the task's cgroup and limit,
    // so the confinement runs after it, as the task's user (who may then join the cgroup).
    if (hasNetwork && taskUser !== 'agent') {
      for (const procs of [cgroup?.procsFile, cpuCgroup?.procsFile])
        if (procs) await chown(procs, taskUser.uid, taskUser.gid);
    }
    const args = wrapperArgs({
      exitFile,
      argv: hasNetwork
        ? [...runAs, ...pastaPrefix, ...confine, ...sandbox, ...argv]
        : [...confine, ...runAs, ...pastaPrefix, ...sandbox, ...argv],
    });
    // No await from here until the exit listener is attached: an exit before it would be lost.
    const child = spawn('/bin/sh', args, {
      cwd: sandboxDir,
      // Nothing of the task's environment: the wrapper, setpriv, pasta and bwrap run outside
      // the sandbox (some as root), where a task's LD_PRELOAD would run its code.
      env: { PATH: DEFAULT_PATH },
      // Own session and process group: the agent's death, terminal or signals do not reach it.
      detached: true,
      stdio: ['ignore', writers.stdout.fd, writers.stderr.fd],
    });
    const pid = child.pid;
    if (pid === undefined) {
      const failure = spawnError(child);
      await cgroup?.remove();
      await cpuCgroup?.remove();
      throw await failure;
    }
    // Read now: until the event loop turns, the wrapper cannot have been reaped, so its stat exists.
    const startTicks = startTicksNow(pid);
    // Not unref'd: a running task keeps the agent's event loop alive, as a pending exit should.
    const startedAt = Date.now();
    const data: CommandRecoveryData = {
      driver: 'command',
      pid,
      startTicks,
      taskStateDir,
      exitFile,
      sandboxDir,
      ...files,
      isBubblewrap,
      memoryLimit,
      ...(cgroup ? { cgroupPath: cgroup.path } : {}),
      ...(cpuCgroup ? { cpuCgroupPath: cpuCgroup.path } : {}),
      memMiB,
      diskMiB,
      killGracePeriodMs,
      timeoutMs: spec.limits.timeoutMs ?? options.defaultTimeoutMs ?? 0,
    };
    const handle: TaskHandle = {
      taskId: spec.taskId,
      kind: 'command',
      startedAt,
      recoveryData: data,
    };
    const task = newTask(handle, data, spec.onLog);
    task.child = child;
    task.cgroup = cgroup;
    task.cpuCgroup = cpuCgroup;
    tasks.set(spec.taskId, task);
    child.on('error', (error) =>
      logger.error({ err: error, taskId: spec.taskId }, 'task wrapper failed'),
    );
    child.once('exit', (code) => {
      finalize(task, code).catch((error: unknown) =>
        logger.error(
          { err: error, taskId: spec.taskId },
          'collecting the exit of a command task failed',
        ),
      );
    });
    // The wrapper has its own copies of the write ends.
    await writers.stdout.close();
    await writers.stderr.close();
    watchTask(task, offsets, readers);
    logger.info({ taskId: spec.taskId, pid, isBubblewrap, memoryLimit }, 'command task started');
    return handle;
  }

  const driver: CommandDriver = {
    kind: 'command',
    sandboxing: {
      isBubblewrap,
      hasPasta,
      memoryLimit,
      taskUser,
      cpu: cpuHierarchy && cpuMode !== 'none' ? { ...cpuHierarchy, mode: cpuMode } : undefined,
    },

    async start(spec) {
      const known = tasks.get(spec.taskId);
      if (known) return known.handle;
      const argv = spec.args?.length
        ? spec.args
        : spec.cmd !== undefined
          ? ['/bin/sh', '-c', spec.cmd]
          : undefined;
      if (!argv) throw new Error(`Task ${spec.taskId} has neither cmd nor args`);
      const sandboxDir = path.resolve(spec.sandboxDir);
      if (!(await stat(sandboxDir)).isDirectory())
        throw new Error(`Sandbox ${sandboxDir} is not a directory`);
      if (taskUser !== 'agent') {
        const blocked = await unsearchableAncestor(sandboxDir, taskUser);
        if (blocked) {
          throw new Error(
            `Tasks run as uid ${taskUser.uid}, which cannot reach ${sandboxDir}: ${blocked} is not searchable (chmod o+x it)`,
          );
        }
      }
      if (isBubblewrap && spec.ports.length > 0 && !hasPasta) {
        throw new Error(
          `Task ${spec.taskId} has ports, but pasta (passt) is not usable on this agent to give it a network of its own`,
        );
      }
      const taskStateDir = path.join(options.stateDir, fileNameOf(spec.taskId));
      await rm(taskStateDir, { recursive: true, force: true });
      await mkdir(taskStateDir, { recursive: true });
      // The sandbox is handed over once, before anything of the task runs in it. Later starts
      // in the same sandbox (command health checks) find it handed over already and leave it:
      // walking a tree the task can change, as root, could be led anywhere.
      if (taskUser !== 'agent' && (await lstat(sandboxDir)).uid !== taskUser.uid) {
        await chownTree(sandboxDir, taskUser);
      }
      const stdoutFile = path.join(sandboxDir, 'stdout');
      const stderrFile = path.join(sandboxDir, 'stderr');
      const opened: FileHandle[] = [];
      try {
        const out = await openAppendOnly(stdoutFile);
        opened.push(out.handle);
        const err = await openAppendOnly(stderrFile);
        opened.push(err.handle);
        if (taskUser !== 'agent') {
          await out.handle.chown(taskUser.uid, taskUser.gid);
          await err.handle.chown(taskUser.uid, taskUser.gid);
        }
        const readers = {
          stdout: await reopenForReading(out.handle),
          stderr: await reopenForReading(err.handle),
        };
        opened.push(readers.stdout, readers.stderr);
        const offsets = {
          stdout: (await out.handle.stat()).size,
          stderr: (await err.handle.stat()).size,
        };
        return await launch({
          spec,
          argv,
          sandboxDir,
          taskStateDir,
          files: {
            stdoutFile,
            stderrFile,
            stdoutIdentity: out.identity,
            stderrIdentity: err.identity,
          },
          writers: { stdout: out.handle, stderr: err.handle },
          readers,
          offsets,
        });
      } catch (error) {
        await Promise.all(opened.map((handle) => handle.close().catch(() => undefined)));
        throw error;
      }
    },

    ...processTaskMethods({
      noun: 'command',
      tasks,
      end: (task) => endTask(task, { kind: 'killed' }),
      free: async (task) => {
        for (const follower of task.followers) follower.close();
        await task.cgroup?.remove();
        await task.cpuCgroup?.remove();
        await rm(task.data.taskStateDir, { recursive: true, force: true });
      },
    }),

    async recover(handle, onLog) {
      if (tasks.has(handle.taskId)) return true;
      const data = readRecoveryData({ schema: CommandRecoveryData, handle, logger });
      if (!data) return false;
      const isRunning = await isProcessRunning(data.pid, data.startTicks);
      const hasExitFile = (await fileSize(data.exitFile)) > 0;
      if (!isRunning && !hasExitFile) {
        // Gone without a trace (a reboot, or killed together with its wrapper).
        if (data.cgroupPath) await openMemoryCgroup(data.cgroupPath).remove();
        if (data.cpuCgroupPath) await openCpuCgroup(data.cpuCgroupPath).remove();
        await rm(data.taskStateDir, { recursive: true, force: true });
        logger.info({ taskId: handle.taskId }, 'command task did not survive');
        return false;
      }
      const task = newTask(handle, data, onLog);
      if (data.cgroupPath) task.cgroup = openMemoryCgroup(data.cgroupPath);
      if (data.cpuCgroupPath) task.cpuCgroup = openCpuCgroup(data.cpuCgroupPath);
      tasks.set(handle.taskId, task);
      // Lines written while no agent ran stay in the sandbox files; forwarding resumes here.
      watchTask(task, {
        stdout: await fileSize(data.stdoutFile),
        stderr: await fileSize(data.stderrFile),
      });
      if (isRunning) pollExit(task);
      else await finalize(task, null);
      logger.info({ taskId: handle.taskId, pid: data.pid, isRunning }, 'command task recovered');
      return true;
    },
  };
  return driver;
}

/** Task ids are Marathon's (`app.instance-<uuid>._app.1`); anything else is made file-safe. */
function fileNameOf(taskId: string): string {
  const safe = taskId.replace(/[^A-Za-z0-9_.-]/g, '_');
  return safe === '.' || safe === '..' || safe === '' ? `_${safe}` : safe;
}

function startTicksNow(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[19]);
}

/** The wrapper's record of the task's status, or (when it could not write one) its own exit code. */
async function readExitFile(file: string, wrapperCode: number | null): Promise<number | undefined> {
  try {
    const text = (await readFile(file, 'utf8')).trim();
    if (/^\d+$/.test(text)) return Number(text);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return wrapperCode ?? undefined;
}

function spawnError(child: ChildProcess): Promise<Error> {
  return new Promise((resolve) => child.once('error', (error) => resolve(error)));
}
