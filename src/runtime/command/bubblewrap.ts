// The bubblewrap sandbox of a command task: fresh user, pid, ipc, uts, cgroup, network and
// mount namespaces, the system read-only, the task's sandbox directory the only writable bind.
import { execFile } from 'node:child_process';
import { lstat, readlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';

/** Host paths a dynamically linked program may need, bound read-only (or re-created as symlinks). */
const SYSTEM_PATHS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc'];

export interface BubblewrapLayout {
  /** `--ro-bind`/`--symlink` arguments for the system paths present on this host. */
  systemArgs: string[];
}

/** Looks at the host once: which system paths exist, and which are symlinks (merged /usr). */
export async function probeBubblewrapLayout(): Promise<BubblewrapLayout> {
  const systemArgs: string[] = [];
  for (const entry of SYSTEM_PATHS) {
    try {
      const stat = await lstat(entry);
      if (stat.isSymbolicLink()) systemArgs.push('--symlink', await readlink(entry), entry);
      else if (stat.isDirectory()) systemArgs.push('--ro-bind', entry, entry);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return { systemArgs };
}

export interface BubblewrapOptions {
  layout: BubblewrapLayout;
  /** Bound read-write at the same path, and the working directory. */
  sandboxDir: string;
  /**
   * 'none': a network namespace of its own with nothing but loopback. 'pasta': keep the
   * namespace bwrap was started in, which is pasta's (task-network.ts): the task's own, with
   * its ports forwarded in. Never the agent's.
   */
  network: 'none' | 'pasta';
  /** Size of the private in-memory /tmp. */
  tmpBytes: number;
  /** The task's whole environment: bwrap starts from an empty one (`--clearenv`). */
  env?: Record<string, string>;
  /** Ids the task sees inside (pasta's user namespace maps only the caller, seen as 0). */
  ids?: { uid: number; gid: number };
}

/**
 * bwrap's arguments up to (not including) the command.
 *
 * `--die-with-parent` ties the sandbox to bwrap's parent. That parent is the task wrapper
 * (task-wrapper.ts), a detached process of its own session, not the agent: an agent restart
 * leaves wrapper and task running, so `recover` can find them, while a wrapper that dies
 * (and so can no longer record the exit status) takes the sandbox with it instead of leaving
 * an unobservable orphan. Running bwrap straight from the agent with this flag would kill
 * every command task whenever the agent restarts.
 */
export function bubblewrapArgs(options: BubblewrapOptions): string[] {
  return [
    '--unshare-all',
    '--unshare-user',
    '--disable-userns',
    ...(options.network === 'pasta' ? ['--share-net'] : []),
    ...(options.ids ? ['--uid', String(options.ids.uid), '--gid', String(options.ids.gid)] : []),
    '--die-with-parent',
    ...options.layout.systemArgs,
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--perms',
    '1777',
    '--size',
    String(Math.max(1024 * 1024, Math.floor(options.tmpBytes))),
    '--tmpfs',
    '/tmp',
    '--bind',
    options.sandboxDir,
    options.sandboxDir,
    '--chdir',
    options.sandboxDir,
    '--remount-ro',
    '/',
    // bwrap and everything before it ran with the agent's clean environment: a task's
    // LD_PRELOAD must never reach a process outside the sandbox.
    ...(options.env
      ? [
          '--clearenv',
          ...Object.entries(options.env).flatMap(([name, value]) => ['--setenv', name, value]),
        ]
      : []),
  ];
}

/**
 * True when bwrap can build a sandbox here (binary present, user namespaces allowed for the
 * user tasks run as). `runAs` is the argv prefix that switches to that user, if any.
 */
export async function detectBubblewrap(options: {
  bwrapPath: string;
  runAs?: string[];
  /** Put before bwrap, as for a task with ports (pasta, see task-network.ts). */
  network?: string[];
  ids?: { uid: number; gid: number };
}): Promise<boolean> {
  const layout = await probeBubblewrapLayout();
  const sandbox = bubblewrapArgs({
    layout,
    sandboxDir: tmpdir(),
    network: options.network ? 'pasta' : 'none',
    tmpBytes: 0,
    env: { PATH: '/usr/bin:/bin' },
    ...(options.ids ? { ids: options.ids } : {}),
  });
  const argv = [
    ...(options.runAs ?? []),
    ...(options.network ?? []),
    options.bwrapPath,
    ...sandbox,
    '--',
    '/bin/sh',
    '-c',
    'exit 0',
  ];
  const [file = options.bwrapPath, ...args] = argv;
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 10_000 }, (error) => resolve(error === null));
  });
}
