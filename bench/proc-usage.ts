// CPU time and resident memory of a process, read from /proc (Linux), for load benchmarks.
import { readdir, readFile } from 'node:fs/promises';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** Seconds of CPU (user + system) the process has used so far. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** Resident set size in MiB. */
export async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** CPU share of one core (0–1) and peak RSS of `pid` over `ms` milliseconds. */
export async function sample(
  pid: number,
  ms: number,
): Promise<{ cpuShare: number; peakRssMiB: number }> {
  const startCpu = await cpuSeconds(pid);
  const started = performance.now();
  let peakRssMiB = 0;
  while (performance.now() - started < ms) {
    peakRssMiB = Math.max(peakRssMiB, await rssMiB(pid));
    await new Promise((r) => setTimeout(r, 250));
  }
  const elapsed = (performance.now() - started) / 1000;
  return { cpuShare: ((await cpuSeconds(pid)) - startCpu) / elapsed, peakRssMiB };
}

/**
 * Seconds of CPU of `pid`'s main thread (its JavaScript event loop) and of all its other threads
 * together (libuv's thread pool, V8's helpers, worker threads): Node 20 leaves them all named
 * `node`, so they are told apart only by the main thread's id being the process's. Threads that
 * ended are not counted.
 */
export async function threadCpuSeconds(pid: number): Promise<{ main: number; others: number }> {
  let main = 0;
  let others = 0;
  const threads = await readdir(`/proc/${pid}/task`).catch(() => []);
  for (const tid of threads) {
    const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => '');
    if (!stat) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const seconds = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    if (Number(tid) === pid) main += seconds;
    else others += seconds;
  }
  return { main, others };
}
