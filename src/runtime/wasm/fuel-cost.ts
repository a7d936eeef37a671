// The size-proportional part of the fuel cost model, in one place: the rewriter charges bulk
// memory and table instructions with it, the WASI host charges host calls with it, so touching
// a byte costs the same fuel wherever it happens (README: the cost model).

/** Bytes (or table elements × 8) that one fuel unit pays for, like one word of a copy loop. */
export const BYTES_PER_FUEL = 8;

/** Fixed fuel for entering any host call: a syscall costs about a thousand instructions. */
export const HOST_CALL_FUEL = 1_000;

/** Fuel for touching `bytes` bytes (0 for none). */
export function fuelForBytes(bytes: number): number {
  return Math.ceil(Math.max(0, bytes) / BYTES_PER_FUEL);
}
