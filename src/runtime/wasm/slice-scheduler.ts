// Which resident task of a shared thread runs its next fuel slice: weighted fair queuing by
// `cpus` (start-time fair queuing: each task's virtual time grows by the thread time it used
// divided by its weight; the ready task with the smallest virtual time goes next). Under load a
// thread's time splits between its tasks in proportion to their `cpus`; an idle thread runs
// whoever is ready. With `--cpu-limit hard` a task of `cpus` < 1 also waits after each slice
// until its share of the time since is `cpus` (a cap that holds on an idle machine). The wait is
// owed, not forgiven: a wait too short for a timer (< 1 ms: slices of well under a millisecond)
// or a timer that fires early is carried to the next turn, so the cap holds over many turns.
//
//   slice ends ─► hard? allowedAt = max(allowedAt, start) + d / cpus; wait until allowedAt
//              ─► ready(vt = max(vt, V)) ─► dispatch: min vt runs
//              ─► vt += d / cpus (d = thread time the slice took)

/** One thread's scheduler; created once per shared worker thread. */
export interface SliceScheduler {
  /**
   * Queues `run` (the task's next turn) to take the thread when its turn comes. `run` reports
   * nothing: the scheduler measures how long it took and charges the task for it.
   */
  ready(taskId: string, run: () => void): void;
  /** Forgets a task that ended (its queued turn, if any, is dropped). */
  forget(taskId: string): void;
  /** Sets the task's weight (its `cpus`) before its first turn. */
  register(taskId: string, options: { cpus: number; isHardCapped: boolean }): void;
  /** Thread milliseconds charged to a task so far (tests, benchmarks). */
  usedMs(taskId: string): number;
}

interface Entry {
  weight: number;
  isHardCapped: boolean;
  /** Virtual time: thread ms used / weight, never behind the scheduler's when it becomes ready. */
  vt: number;
  usedMs: number;
  pending: (() => void) | undefined;
  /** A hard-capped task's wait after its last slice. */
  timer: NodeJS.Timeout | undefined;
  /** Hard cap: the earliest its next turn may begin (ms on `now`), debts of past turns included. */
  allowedAt: number;
}

/** Hard cap: how late a turn may begin and still be reckoned from when it was allowed. */
const LATE_CREDIT_MS = 1;

/** Below this a weight is treated as this (a task of 0 cpus still progresses, slowly). */
const MIN_WEIGHT = 0.001;

export function createSliceScheduler(options: { now?: () => number } = {}): SliceScheduler {
  const now = options.now ?? (() => performance.now());
  const entries = new Map<string, Entry>();
  /** The scheduler's virtual time: that of the last turn dispatched. */
  let virtual = 0;
  let isDispatching = false;
  /** The task whose turn is running: its `ready` waits until the turn is measured. */
  let running: Entry | undefined;
  let readyAfterRun: (() => void) | undefined;

  const entryOf = (taskId: string): Entry => {
    let entry = entries.get(taskId);
    if (!entry) {
      entry = {
        weight: 1,
        isHardCapped: false,
        vt: virtual,
        usedMs: 0,
        pending: undefined,
        timer: undefined,
        allowedAt: 0,
      };
      entries.set(taskId, entry);
    }
    return entry;
  };

  function dispatch(): void {
    isDispatching = false;
    let best: Entry | undefined;
    for (const entry of entries.values()) {
      if (entry.pending && (!best || entry.vt < best.vt)) best = entry;
    }
    if (!best?.pending) return;
    const run = best.pending;
    best.pending = undefined;
    virtual = Math.max(virtual, best.vt);
    const started = now();
    running = best;
    try {
      run();
    } finally {
      running = undefined;
      const took = now() - started;
      // A turn after an idle spell starts a new reckoning: no credit is banked while away, but a
      // timer's lateness (up to LATE_CREDIT_MS) is not lost, or late timers would halve the cap.
      if (best.isHardCapped)
        best.allowedAt = Math.max(best.allowedAt, started - LATE_CREDIT_MS) + took / best.weight;
      best.usedMs += took;
      best.vt += took / best.weight;
      const again = readyAfterRun;
      readyAfterRun = undefined;
      again?.();
      // One turn per turn of the event loop: messages (stops, new tasks) and timers get in.
      schedule();
    }
  }

  function schedule(): void {
    if (isDispatching) return;
    for (const entry of entries.values()) {
      if (entry.pending) {
        isDispatching = true;
        setImmediate(dispatch);
        return;
      }
    }
  }

  return {
    register(taskId, { cpus, isHardCapped }) {
      const entry = entryOf(taskId);
      entry.weight = Math.max(MIN_WEIGHT, cpus);
      entry.isHardCapped = isHardCapped;
    },
    ready(taskId, run) {
      const entry = entryOf(taskId);
      if (entry === running) {
        readyAfterRun = () => this.ready(taskId, run);
        return;
      }
      const queue = () => {
        entry.timer = undefined;
        if (!entries.has(taskId)) return;
        // A task back from a sleep or a wait gets no credit for the time it was away.
        entry.vt = Math.max(entry.vt, virtual);
        entry.pending = run;
        schedule();
      };
      // Hard cap: a turn that took d may be followed by the next only d / weight after it began
      // (a sleep in between counts as the wait). Below a timer's 1 ms the wait stays owed.
      if (entry.isHardCapped && entry.weight < 1) {
        const wait = entry.allowedAt - now();
        if (wait >= 1) {
          entry.timer = setTimeout(queue, wait);
          return;
        }
      }
      queue();
    },
    forget(taskId) {
      const entry = entries.get(taskId);
      if (entry?.timer) clearTimeout(entry.timer);
      entries.delete(taskId);
    },
    usedMs: (taskId) => entries.get(taskId)?.usedMs ?? 0,
  };
}
