// Reads /proc: whether a process is still the one we started (pid + start time), the members
// of a process group and the pid namespace a process lives in. Linux only.
import { readdir, readFile, readlink } from 'node:fs/promises';

export interface ProcessStat {
  pid: number;
  /** One letter: R, S, D, Z (zombie), X (dead), … */
  state: string;
  ppid: number;
  pgid: number;
  /** Start time in clock ticks since boot; with the pid it names one process for good. */
  startTicks: number;
}

/** The parsed `/proc/<pid>/stat`, or undefined when there is no such process. */
export async function readProcessStat(pid: number): Promise<ProcessStat | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    if (isGoneError(error)) return undefined;
    throw error;
  }
  // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return {
    pid,
    state: fields[0] ?? '?',
    ppid: Number(fields[1]),
    pgid: Number(fields[2]),
    startTicks: Number(fields[19]),
  };
}

/** True while `pid` is the process that started at `startTicks` and has not exited (zombies count as exited). */
export async function isProcessRunning(pid: number, startTicks: number): Promise<boolean> {
  const stat = await readProcessStat(pid);
  return (
    stat !== undefined && stat.startTicks === startTicks && stat.state !== 'Z' && stat.state !== 'X'
  );
}

/** Pids of the processes whose process group is `pgid`. */
export async function listProcessGroup(pgid: number): Promise<ProcessStat[]> {
  const members: ProcessStat[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readProcessStat(Number(name));
    if (stat?.pgid === pgid) members.push(stat);
  }
  return members;
}

/** `pid:[4026531836]` for the pid namespace of `pid`; undefined when the process is gone. */
export async function pidNamespaceOf(pid: number | 'self'): Promise<string | undefined> {
  try {
    return await readlink(`/proc/${pid}/ns/pid`);
  } catch (error) {
    if (isGoneError(error)) return undefined;
    throw error;
  }
}

/** Sends a signal to a process (`pid` > 0) or a process group (`pid` < 0); false when none was there. */
export function sendSignal(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

function isGoneError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ESRCH';
}
