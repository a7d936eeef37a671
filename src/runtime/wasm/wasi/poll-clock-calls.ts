// Clocks, sched_yield and poll_oneoff: a clock subscription sleeps (waking at once when the
// driver asks the task to stop); fd subscriptions (files, stdio) are always ready.
/* eslint-disable max-params -- WASI preview 1 fixes these signatures: the ABI, not an API of ours. */
import { Errno, WasiError } from '../wasi-errno.js';
import type { FdTable } from './fd-table.js';
import type { GuestMemory } from './guest-memory.js';

/** Thrown out of a sleep when the driver asked the task to stop. */
export class StopRequested extends Error {}

/** Subscriptions one poll_oneoff takes (EINVAL past it): each one is a host object. */
export const MAX_SUBSCRIPTIONS = 4096;

const NS_PER_MS = 1_000_000n;
const EVENTTYPE_CLOCK = 0;

function nowNs(clockId: number): bigint {
  if (clockId === 0) return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
  if (clockId >= 1 && clockId <= 3) return process.hrtime.bigint();
  throw new WasiError(Errno.INVAL);
}

/** The clock and poll calls of the WASI import object. */
export function createPollClockCalls(options: {
  memory: GuestMemory;
  fds: FdTable;
  /** Index 0 becomes non-zero when the driver wants the task to stop; sleeps wait on it. */
  control: Int32Array;
  /** Replaces the blocking sleep (resumable tasks); false when it suspended the guest instead. */
  sleep?: (ms: number) => boolean;
}): Record<string, (...args: never[]) => number> {
  const { memory, fds } = options;
  const sleepMs = (ms: number): boolean => {
    if (options.sleep) return options.sleep(ms);
    if (ms <= 0) return true;
    // Wakes early when the driver sets the stop flag (stop, timeout), so a sleeping task ends fast.
    if (Atomics.wait(options.control, 0, 0, ms) !== 'timed-out') throw new StopRequested();
    return true;
  };
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
      const n = count >>> 0;
      if (n === 0 || n > MAX_SUBSCRIPTIONS) return Errno.INVAL;
      memory.check(inPtr, n * 48);
      memory.check(outPtr, n * 32);
      memory.check(countOutPtr, 4);
      const v = memory.view();
      const now = process.hrtime.bigint();
      const subs: { userdata: bigint; type: number; deadline?: bigint; error: number }[] = [];
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
          let error: number = Errno.SUCCESS;
          try {
            fds.get(v.getUint32(at + 16, true));
          } catch {
            error = Errno.BADF;
          }
          subs.push({ userdata, type, error });
        } else {
          return Errno.INVAL;
        }
      }
      // Files and stdio are always ready; only when nothing is, sleep until the first deadline.
      let ready = subs.filter((s) => s.type !== EVENTTYPE_CLOCK);
      if (ready.length === 0) {
        const first = subs.reduce(
          (m, s) => (s.deadline !== undefined && s.deadline < m ? s.deadline : m),
          subs[0]?.deadline ?? now,
        );
        const ms = Number((first - now) / NS_PER_MS) + ((first - now) % NS_PER_MS > 0n ? 1 : 0);
        // A suspended guest unwinds now and calls again once resumed (that call completes).
        if (!sleepMs(ms)) return Errno.SUCCESS;
        // Slept until the first deadline: the subscriptions due by then fire.
        ready = subs.filter((s) => s.deadline !== undefined && s.deadline <= first);
      }
      ready.forEach((s, i) => {
        const at = outPtr + i * 32;
        v.setBigUint64(at, s.userdata, true);
        v.setUint16(at + 8, s.error, true);
        v.setUint8(at + 10, s.type);
        v.setBigUint64(at + 16, 0n, true);
        v.setUint16(at + 24, 0, true);
      });
      v.setUint32(countOutPtr, ready.length, true);
      return Errno.SUCCESS;
    },
  };
}
