// What every per-task cgroup directory (memory, cpu) shares: the processes in it, and removing
// it once they are gone (killing what is left).
import { readFile, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { sendSignal } from './process-table.js';

/** The pids in the group `dir` (none once it is gone). */
export async function cgroupPids(dir: string): Promise<number[]> {
  try {
    return (await readFile(path.join(dir, 'cgroup.procs'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Kills what is left in the group `dir` and removes it; gone already is done. */
export async function removeCgroup(dir: string): Promise<void> {
  // rmdir fails with EBUSY while a process is still in the group; dying ones take a moment.
  const deadline = Date.now() + 5000;
  for (;;) {
    for (const pid of await cgroupPids(dir)) sendSignal(pid, 'SIGKILL');
    try {
      await rmdir(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
