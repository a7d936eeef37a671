// Threads that run code Pacer did not write (Wasm tasks, and the parse and rewrite of their
// modules) run below the thread that started them. On Linux a nice value is per thread, so this
// lowers only the calling thread: the agent's (and in `pacer dev` the master's) event loop keeps
// the CPU it needs for statuses, offers and the API while tasks take what is left. Measured with
// 10 agents and the master on two cores, tasks at the same priority left the master a tenth of a
// core during 10,000 launches, and their statuses waited seconds to be read.

import { getPriority, setPriority } from 'node:os';

/** How many nice steps below its parent a task thread runs (the highest nice is 19). */
export const TASK_THREAD_NICE_STEPS = 10;

/** Lowers the calling thread's priority by `TASK_THREAD_NICE_STEPS` (never raises it). */
export function lowerThreadPriority(): void {
  try {
    setPriority(Math.min(19, getPriority() + TASK_THREAD_NICE_STEPS));
  } catch {
    // Not supported here (or refused): the thread keeps its parent's priority, as before.
  }
}
