// Nice values read from /proc (Linux), for the tests that check which threads and processes run
// below the agent's priority (runtime/wasm/thread-priority.ts).
import { readdir, readFile } from 'node:fs/promises';

/** The nice value in a `/proc/…/stat` file, or undefined when the thread or process is gone. */
export async function niceOf(statFile: string): Promise<number | undefined> {
  const stat = await readFile(statFile, 'utf8').catch(() => '');
  // Fields after the command name (which may hold spaces): state is field 3, nice field 19.
  const nice = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16];
  return nice === undefined ? undefined : Number(nice);
}

/** The nice value of each thread of this process, by thread id. */
export async function threadNices(): Promise<Map<number, number>> {
  const nices = new Map<number, number>();
  for (const tid of await readdir('/proc/self/task')) {
    const nice = await niceOf(`/proc/self/task/${tid}/stat`);
    if (nice !== undefined) nices.set(Number(tid), nice);
  }
  return nices;
}
