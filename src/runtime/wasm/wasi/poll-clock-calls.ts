// Clocks, sched_yield and poll_oneoff: a clock subscription sleeps (waking at once when the
// driver asks the task to stop); file and stdio subscriptions are always ready; a socket one is
// ready when the task's socket mirror says so (socket mode), and waiting for it goes through
// the task's `Waiter` (a pooled task blocks, a resident one unwinds).
/* eslint-disable max-params -- WASI preview 1 fixes these signatures: the ABI, not an API of ours. */
import { Errno, WasiError } from '../wasi-errno.js';
import type { FdTable } from './fd-table.js';
import type { GuestMemory } from './guest-memory.js';
import type { NetMirror } from './net-mirror.js';
import { socketReadiness } from './socket-calls.js';
import { StopRequested } from './stop-requested.js';
import type { Waiter } from './waiter.js';

export { StopRequested };

/** Subscriptions one poll_oneoff takes (EINVAL past it): each one is a host object. */
export const MAX_SUBSCRIPTIONS = 4096;

const NS_PER_MS = 1_000_000n;
const EVENTTYPE_CLOCK = 0;

function nowNs(clockId: number): bigint {
  if (clockId === 0) return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
  if (clockId >= 1 && clockId <= 3) return process.hrtime.bigint();
  throw new WasiError(Errno.INVAL);
}

interface Subscription {
  userdata: bigint;
  type: number;
  deadline?: bigint;
  error: number;
  fd?: number;
  nbytes?: number;
  isHangup?: boolean;
}

/** The clock and poll calls of the WASI import object. */
export function createPollClockCalls(options: {
  memory: GuestMemory;
  fds: FdTable;
  waiter: Waiter;
  net?: NetMirror;
}): Record<string, (...args: never[]) => number> {
  const { memory, fds, waiter, net } = options;
  /**
   * When a resident guest suspended in poll_oneoff: the time of that call. The replay after
   * the rewind measures relative timeouts from it, so a sleep ends when it was due.
   */
  let suspendedAt: bigint | undefined;
  return {
    clock_res_get(clockId: number, resPtr: number) {
      nowNs(clockId);
      memory.check(resPtr, 8);
      memory.view().setBigUint64(resPtr, clockId === 0 ? 1000n : 1n, true);
      return Errno.SUCCESS;
    },
    clock_time_get(clockId: number, _precision: bigint, timePtr: number) {
      const now = nowNs(clockId);
      memory.check(timePtr, 8);
      memory.view().setBigUint64(timePtr, now, true);
      return Errno.SUCCESS;
    },
    sched_yield() {
      return Errno.SUCCESS;
    },
    poll_oneoff(inPtr: number, outPtr: number, count: number, countOutPtr: number) {
      const isReplay = waiter.resume();
      const now = isReplay && suspendedAt !== undefined ? suspendedAt : process.hrtime.bigint();
      suspendedAt = undefined;
      const n = count >>> 0;
      if (n === 0 || n > MAX_SUBSCRIPTIONS) return Errno.INVAL;
      memory.check(inPtr, n * 48);
      memory.check(outPtr, n * 32);
      memory.check(countOutPtr, 4);
      const v = memory.view();
      const subs: Subscription[] = [];
      let hasSocket = false;
      for (let i = 0; i < n; i++) {
        const at = inPtr + i * 48;
        const userdata = v.getBigUint64(at, true);
        const type = v.getUint8(at + 8);
        if (type === EVENTTYPE_CLOCK) {
          const clockId = v.getUint32(at + 16, true);
          const timeout = v.getBigUint64(at + 24, true);
          const isAbsolute = (v.getUint16(at + 40, true) & 1) === 1;
          const deadline = isAbsolute ? now + (timeout - nowNs(clockId)) : now + timeout;
          subs.push({ userdata, type, deadline, error: Errno.SUCCESS });
        } else if (type === 1 || type === 2) {
          const fd = v.getUint32(at + 16, true);
          let error: number = Errno.SUCCESS;
          try {
            if (fds.get(fd).kind === 'socket') hasSocket = true;
          } catch {
            error = Errno.BADF;
          }
          subs.push({ userdata, type, error, fd });
        } else {
          return Errno.INVAL;
        }
      }
      const first = subs.reduce<bigint | undefined>(
        (m, s) =>
          s.deadline !== undefined && (m === undefined || s.deadline < m) ? s.deadline : m,
        undefined,
      );
      /** Ready subscriptions; clocks are due by `at` (now when undefined). */
      const readyNow = (at?: bigint): Subscription[] => {
        const t = at ?? process.hrtime.bigint();
        return subs.filter((s) => {
          if (s.type === EVENTTYPE_CLOCK) return s.deadline !== undefined && s.deadline <= t;
          if (s.error !== Errno.SUCCESS || s.fd === undefined) return true;
          const entry = fds.get(s.fd);
          // Files and stdio are always ready.
          if (entry.kind !== 'socket' || !net) return true;
          const state = socketReadiness(net, entry, s.type === 2);
          s.nbytes = state.nbytes;
          s.isHangup = state.isHangup;
          return state.isReady;
        });
      };
      // A sleep without sockets is over when its wait ends (as the blocking wait returns, or the
      // resident task is resumed by its timer): the clocks due by the first deadline fire, so a
      // task calls poll_oneoff the same number of times on every run (its fuel is exact).
      let ready = readyNow(isReplay && !hasSocket ? first : undefined);
      while (ready.length === 0) {
        const left = first === undefined ? undefined : first - process.hrtime.bigint();
        const ms =
          left === undefined
            ? undefined
            : Math.max(0, Number(left / NS_PER_MS) + (left % NS_PER_MS > 0n ? 1 : 0));
        // A suspended guest unwinds now and makes this call again once resumed.
        if (!waiter.wait(ms, hasSocket)) {
          suspendedAt = now;
          return Errno.SUCCESS;
        }
        ready = readyNow(hasSocket ? undefined : first);
      }
      ready.forEach((s, i) => {
        const at = outPtr + i * 32;
        v.setBigUint64(at, s.userdata, true);
        v.setUint16(at + 8, s.error, true);
        v.setUint8(at + 10, s.type);
        v.setBigUint64(at + 16, BigInt(s.nbytes ?? 0), true);
        v.setUint16(at + 24, s.isHangup ? 1 : 0, true);
      });
      v.setUint32(countOutPtr, ready.length, true);
      return Errno.SUCCESS;
    },
  };
}
