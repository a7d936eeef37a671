// Views of the guest's linear memory for host calls: every pointer and length is checked against
// the memory's size before the host touches or allocates anything, and every byte handed out is
// counted (host calls are charged fuel by the bytes they touch).
import { Errno, WasiError } from '../wasi-errno.js';

/** Most iovecs one read or write takes (Linux's IOV_MAX): more is EINVAL, before any allocation. */
export const MAX_IOVECS = 1024;

/** The guest's memory as host calls see it. */
export interface GuestMemory {
  /** Must be called with the instance's exported memory before `_start`. */
  setMemory(memory: WebAssembly.Memory): void;
  /** Forgets the memory and the bytes counted (a reused host, between two runs): EFAULT until set. */
  reset(): void;
  /** A DataView of the whole memory (re-made when the memory grew); EFAULT without one. */
  view(): DataView;
  /** `len` bytes at `ptr`, without copying; EFAULT when any of them is outside the memory. */
  slice(ptr: number, len: number): Uint8Array;
  /** Checks that `[ptr, ptr + len)` is inside the memory (EFAULT otherwise). */
  check(ptr: number, len: number): void;
  /** The UTF-8 text of `len` bytes at `ptr`; ENAMETOOLONG past `maxBytes`. */
  readString(ptr: number, len: number, maxBytes: number): string;
  /** The buffers of an iovec array (EINVAL past `MAX_IOVECS`, EFAULT when any is outside). */
  iovecs(ptr: number, count: number): Uint8Array[];
  /**
   * Like `iovecs` but counts nothing: socket reads and writes charge the bytes they really
   * moved (`addTouched`), not the size of the buffers offered (a 1 GiB recv buffer for 10 bytes).
   */
  iovecsUncounted(ptr: number, count: number): Uint8Array[];
  /** Adds host work the current call did in proportion to `bytes` (charged like touched bytes). */
  addTouched(bytes: number): void;
  /** Bytes handed out since the last `takeTouched` (what the current call is charged for). */
  takeTouched(): number;
}

const decoder = new TextDecoder('utf-8', { fatal: false });

/** Memory views for one task; the memory is set once the instance exists. */
export function createGuestMemory(): GuestMemory {
  let memory: WebAssembly.Memory | undefined;
  let view = new DataView(new ArrayBuffer(0));
  let bytes = new Uint8Array(0);
  let touched = 0;

  const current = (): Uint8Array => {
    const buffer = memory?.buffer;
    if (!buffer) throw new WasiError(Errno.FAULT);
    if (view.buffer !== buffer) {
      view = new DataView(buffer);
      bytes = new Uint8Array(buffer);
    }
    return bytes;
  };
  const check = (ptr: number, len: number): void => {
    const size = current().length;
    // Both are u32 from the guest: compare as unsigned, without wrapping.
    if (ptr >>> 0 !== ptr || len >>> 0 !== len || ptr + len > size) {
      throw new WasiError(Errno.FAULT);
    }
  };
  const slice = (ptr: number, len: number): Uint8Array => {
    const p = ptr >>> 0;
    const n = len >>> 0;
    check(p, n);
    touched += n;
    return bytes.subarray(p, p + n);
  };

  return {
    setMemory(m) {
      memory = m;
    },
    reset() {
      memory = undefined;
      view = new DataView(new ArrayBuffer(0));
      bytes = new Uint8Array(0);
      touched = 0;
    },
    view() {
      current();
      return view;
    },
    slice,
    check: (ptr, len) => check(ptr >>> 0, len >>> 0),
    readString(ptr, len, maxBytes) {
      if (len >>> 0 > maxBytes) throw new WasiError(Errno.NAMETOOLONG);
      return decoder.decode(slice(ptr, len));
    },
    iovecs(ptr, count) {
      const n = count >>> 0;
      if (n > MAX_IOVECS) throw new WasiError(Errno.INVAL);
      const p = ptr >>> 0;
      check(p, n * 8);
      const out: Uint8Array[] = [];
      for (let i = 0; i < n; i++) {
        out.push(slice(view.getUint32(p + i * 8, true), view.getUint32(p + i * 8 + 4, true)));
      }
      return out;
    },
    iovecsUncounted(ptr, count) {
      const n = count >>> 0;
      if (n > MAX_IOVECS) throw new WasiError(Errno.INVAL);
      const p = ptr >>> 0;
      check(p, n * 8);
      const out: Uint8Array[] = [];
      for (let i = 0; i < n; i++) {
        const at = view.getUint32(p + i * 8, true);
        const len = view.getUint32(p + i * 8 + 4, true);
        check(at, len);
        out.push(bytes.subarray(at, at + len));
      }
      return out;
    },
    addTouched(n) {
      touched += n;
    },
    takeTouched() {
      const n = touched;
      touched = 0;
      return n;
    },
  };
}
