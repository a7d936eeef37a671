// How a host call that must wait (a sleep, a blocking accept or recv, a poll on sockets) waits:
// a pooled task blocks its own thread; a resident task unwinds (Asyncify) and the call is made
// again when its thread resumes it, so thousands of idle servers share a thread.
import { StopRequested } from './stop-requested.js';

export interface Waiter {
  /**
   * True when `wait` unwinds the guest (a resident task): only the imports that Asyncify made
   * able to unwind (resumable-module.ts: poll_oneoff, sock_accept, sock_recv, sock_send,
   * fd_read) may then wait; others must answer at once (EAGAIN).
   */
  readonly isSuspending: boolean;
  /**
   * Called first by every call that may wait. True when this call is the replay of one that
   * suspended the guest (a resident task being rewound); the rewind is then over.
   */
  resume(): boolean;
  /**
   * Waits until `ms` passed (undefined: no limit), or, with `isNetWait`, socket traffic came.
   * True when the wait happened (check again); false when the guest is being suspended
   * instead: the call must return at once, and is made again once resumed.
   * Throws `StopRequested` when the driver asked the task to stop.
   */
  wait(ms: number | undefined, isNetWait: boolean): boolean;
}

/** Index of the control word the driver bumps after it posts socket traffic to a pooled task. */
export const NET_WAKE_INDEX = 1;

/**
 * A pooled task's waiter: `Atomics.wait` on the control words (index 0, the stop flag, for a
 * sleep; index 1, bumped by the driver with each socket delivery, for a socket wait), and
 * `receiveNet` drains what was delivered (`receiveMessageOnPort`: the thread's event loop does
 * not run while the guest does).
 */
export function createBlockingWaiter(options: {
  control: Int32Array;
  /** Posts queued socket ops, then applies every delivery already received (true: some). */
  receiveNet?: () => boolean;
}): Waiter {
  const { control } = options;
  const isStopped = (): boolean => Atomics.load(control, 0) !== 0;
  return {
    isSuspending: false,
    resume: () => false,
    wait(ms, isNetWait) {
      if (isStopped()) throw new StopRequested();
      if (!isNetWait || !options.receiveNet) {
        if (ms === undefined || ms > 0) {
          if (Atomics.wait(control, 0, 0, ms) !== 'timed-out') throw new StopRequested();
        }
        return true;
      }
      const seen = Atomics.load(control, NET_WAKE_INDEX);
      // Nothing received and nothing new since `seen`: sleep until the driver bumps the word
      // (or stop, or ms). The driver notifies this index on stop too.
      if (!options.receiveNet() && Atomics.load(control, NET_WAKE_INDEX) === seen) {
        Atomics.wait(control, NET_WAKE_INDEX, seen, ms);
        options.receiveNet();
      }
      if (isStopped()) throw new StopRequested();
      return true;
    },
  };
}
