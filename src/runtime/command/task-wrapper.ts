// The small shell process between the agent and a command task. It outlives the agent, puts
// the task in its memory cgroup or under its address-space limit, and records the exit status
// in the state directory for a later agent. Its stdout and stderr are the task's log files,
// opened by the agent and handed over as file descriptors: the wrapper opens no path a task
// could have changed.

/**
 * Run as `/bin/sh -c WRAPPER_SCRIPT pacer-task <exit-file> <argv…>` with a clean environment
 * (the task's own reaches it through argv, see command-driver.ts). The trap keeps the wrapper
 * alive through the SIGTERM sent to the task's process group; it runs only after the
 * foreground child has ended. The child is a subshell (a fork, no exec of another shell):
 * subshells reset caught signals to the default, so the task gets SIGTERM's default action
 * back. The wrapper itself stays outside the task's cgroup (`confineArgs`, somewhere in argv)
 * and is no candidate for the OOM killer.
 */
export const WRAPPER_SCRIPT = [
  'exit_file=$1; shift 1',
  'trap : TERM INT HUP',
  '( exec "$@" ) </dev/null',
  'code=$?',
  // The state directory is the agent's (the task cannot write it), and the file is read only
  // once the wrapper is gone, so it need not be written atomically.
  'echo "$code" > "$exit_file"',
  'exit "$code"',
].join('\n');

/**
 * Joins the task's memory and CPU cgroups (`0` = the writing process) and sets the address-space
 * limit, then execs the rest of argv: put it right before what must be confined, so that
 * nothing of the task runs unconfined while helpers before it (pasta) are not charged.
 */
export const CONFINE_SCRIPT = [
  'procs=$1; cpuprocs=$2; vkib=$3; shift 3',
  'if [ -n "$procs" ]; then echo 0 > "$procs" || exit 125; fi',
  'if [ -n "$cpuprocs" ]; then echo 0 > "$cpuprocs" || exit 125; fi',
  'if [ -n "$vkib" ]; then ulimit -v "$vkib" || exit 125; fi',
  'exec "$@"',
].join('\n');

export interface ConfineOptions {
  /** `cgroup.procs` of the task's memory cgroup. */
  cgroupProcsFile?: string;
  /** `cgroup.procs` of the task's CPU cgroup. */
  cpuCgroupProcsFile?: string;
  /** Address-space limit (`ulimit -v`) when no cgroup is available. */
  addressSpaceKiB?: number;
}

/** The argv prefix that confines what follows it; empty when there is nothing to confine. */
export function confineArgs(options: ConfineOptions): string[] {
  if (
    options.cgroupProcsFile === undefined &&
    options.cpuCgroupProcsFile === undefined &&
    options.addressSpaceKiB === undefined
  )
    return [];
  return [
    '/bin/sh',
    '-c',
    CONFINE_SCRIPT,
    'pacer-confine',
    options.cgroupProcsFile ?? '',
    options.cpuCgroupProcsFile ?? '',
    options.addressSpaceKiB === undefined
      ? ''
      : String(Math.max(1, Math.floor(options.addressSpaceKiB))),
  ];
}

/** The wrapper's argv (without the leading `/bin/sh`). */
export function wrapperArgs(options: {
  /** Written with the task's exit status (128 + n when killed by signal n). */
  exitFile: string;
  /** What to run: confinement, the privilege drop, network, bwrap and the task, as one argv. */
  argv: string[];
}): string[] {
  return ['-c', WRAPPER_SCRIPT, 'pacer-task', options.exitFile, ...options.argv];
}
