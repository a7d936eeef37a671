// Fuel metering of one function body: charges each straight-line segment its cost when it is
// entered, checks the counter at the function entry and at every loop header, and charges bulk
// memory and table instructions by their length (run time) before they run.
import { ByteReader, encodeS64, encodeU32 } from './byte-reader.js';
import type { ByteWriter } from './byte-writer.js';
import { BYTES_PER_FUEL } from './fuel-cost.js';
import { readInstruction } from './instruction.js';

/** Instructions that end a straight-line segment (control flow may leave or enter after them). */
const segmentEnders = new Set([
  0x00, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x12,
  0x13, 0x15, 0x18, 0x19, 0x1f, 0xd4, 0xd6,
]);

/** Structure markers that cost nothing: they compile to no work. */
const freeOps = new Set([0x01, 0x02, 0x03, 0x05, 0x06, 0x07, 0x0b, 0x18, 0x19, 0x1f]);

/** Instructions that can run unbounded work outside this function's own loops. */
const callOps = new Set([0x10, 0x11, 0x12, 0x13, 0x14, 0x15]);

/**
 * Bytes of memory a table element takes in the engine (V8 on 64-bit: one pointer). Tables count
 * against `mem` at this price, and table instructions are charged fuel for it.
 */
export const tableElementBytes = 8;

/** log2(BYTES_PER_FUEL): the rewritten code divides with a shift, so it must be a power of two. */
const fuelShift = Math.log2(BYTES_PER_FUEL);
if (!Number.isInteger(fuelShift)) throw new Error('BYTES_PER_FUEL must be a power of two');

/**
 * 0xFC instructions whose last operand (an i32 on top of the stack) is a length, and the bytes
 * each unit of it touches: memory.init/copy/fill bytes, table.init/copy/fill/grow elements.
 */
const bulkUnitBytes: Record<number, number> = {
  8: 1, // memory.init
  10: 1, // memory.copy
  11: 1, // memory.fill
  12: tableElementBytes, // table.init
  14: tableElementBytes, // table.copy
  15: tableElementBytes, // table.grow
  17: tableElementBytes, // table.fill
};
const tableGrowSub = 15;

/** The cost of one instruction in fuel units (see README: the cost model). */
export function instructionCost(op: number): number {
  return freeOps.has(op) ? 0 : 1;
}

export interface MeterOptions {
  /** Index of the fuel global (mutable i64). */
  fuelGlobal: number;
  /** Number of parameters of the function (locals are numbered after them). */
  paramCount: number;
  /** Replaces each `memory.grow 0` with `call growFunction`, when defined. */
  growFunction?: number;
  /** A failed check calls this function (no params, no results) instead of `unreachable`. */
  outOfFuelFunction?: number;
  /** False leaves fuel alone (only `memory.grow` and `table.grow` are replaced). */
  shouldMeter: boolean;
  /**
   * Mutable i64 global: bytes of `mem` not yet used by memory and tables. A `table.grow` that
   * would take more returns -1 (and sets `growRefusedGlobal`); one that succeeds subtracts.
   */
  memLeftGlobal?: number;
  /** Mutable i32 global set to 1 when a grow is refused at the cap. */
  growRefusedGlobal?: number;
  /**
   * Metered only: `memory.fill` and `memory.copy` become calls to these helpers
   * (instrument-module.ts), which charge and run them in chunks, so one instruction over all of
   * memory is not one unbounded step between fuel checks.
   */
  fillFunction?: number;
  copyFunction?: number;
}

interface Insertion {
  at: number;
  cost: number;
  isCheck: boolean;
}

/** An instruction replaced by other code: `memory.grow`, bulk memory and table instructions. */
interface Site {
  at: number;
  /** The 0xFC sub-opcode, or -1 for memory.grow. */
  sub: number;
}

/**
 * Rewrites one code-section body (locals + instructions, without its size prefix) into `out`
 * (appended; nothing else is written).
 */
export function meterFunction(body: Uint8Array, options: MeterOptions, out: ByteWriter): void {
  const reader = new ByteReader(body);
  const groupCount = reader.u32();
  let localCount = 0;
  for (let i = 0; i < groupCount; i++) {
    localCount += reader.u32();
    reader.u8();
  }
  const codeStart = reader.pos;

  // Pass 1: segment boundaries and their costs, rewrite sites, and whether it is a leaf.
  const insertions: Insertion[] = [{ at: codeStart, cost: 0, isCheck: true }];
  const sites: Site[] = [];
  let isLeaf = true;
  let depth = 0;
  while (!reader.isAtEnd) {
    const at = reader.pos;
    const { op, sub } = readInstruction(reader);
    const current = insertions[insertions.length - 1] as Insertion;
    current.cost += instructionCost(op);
    if (op === 0x40 && options.growFunction !== undefined) sites.push({ at, sub: -1 });
    if (op === 0xfc && bulkUnitBytes[sub] !== undefined) {
      const isCapped = sub === tableGrowSub && options.memLeftGlobal !== undefined;
      if (options.shouldMeter || isCapped) sites.push({ at, sub });
    }
    if (callOps.has(op) || op === 0x03) isLeaf = false;
    if (op === 0x02 || op === 0x03 || op === 0x04 || op === 0x06 || op === 0x1f) depth++;
    if (op === 0x0b || op === 0x18) depth--;
    if (segmentEnders.has(op) && depth >= 0) {
      insertions.push({ at: reader.pos, cost: 0, isCheck: op === 0x03 });
    }
  }
  // A leaf function without loops or calls runs a bounded number of instructions: its
  // callers' checks suffice, and the call-heavy case saves a compare and branch per call.
  const first = insertions[0] as Insertion;
  first.isCheck = !isLeaf;

  // Added locals: an i64 scratch for checks, and two i32 (a length, a result) for the sites.
  const hasBulk = sites.some((s) => s.sub >= 0);
  const usesTemp = (options.shouldMeter && insertions.some((i) => i.isCheck)) || hasBulk;
  const tempLocal = options.paramCount + localCount;
  const fuel = encodeU32(options.fuelGlobal);
  const temp = encodeU32(tempLocal);
  const lengthLocal = encodeU32(tempLocal + 1);
  const resultLocal = encodeU32(tempLocal + 2);
  const outOfFuel =
    options.outOfFuelFunction === undefined
      ? [0x00]
      : [0x10, ...encodeU32(options.outOfFuelFunction)];

  /** The counter minus the i64 on the stack, stored, and checked. */
  const emitSubtractAndCheck = (): void => {
    out.push(0x7d, 0x22, ...temp, 0x24, ...fuel, 0x20, ...temp, 0x42, 0x00, 0x53);
    out.push(0x04, 0x40, ...outOfFuel, 0x0b);
  };
  const emitCharge = (insertion: Insertion): void => {
    if (insertion.isCheck) {
      // fuel -= cost; if (fuel < 0) unreachable (or call outOfFuelFunction)
      out.push(0x23, ...fuel, 0x42, ...encodeS64(BigInt(insertion.cost)));
      emitSubtractAndCheck();
    } else if (insertion.cost > 0) {
      out.push(0x23, ...fuel, 0x42, ...encodeS64(BigInt(insertion.cost)), 0x7d, 0x24, ...fuel);
    }
  };
  /** Pushes (i64) length × unitBytes from the length local. */
  const emitLengthBytes = (unitBytes: number): void => {
    out.push(0x20, ...lengthLocal, 0xad); // local.get; i64.extend_i32_u
    if (unitBytes !== 1) out.push(0x42, ...encodeS64(BigInt(unitBytes)), 0x7e); // i64.mul
  };
  /** Rewrites one bulk instruction whose operands are on the stack, length on top. */
  const emitBulk = (site: Site, instruction: Uint8Array): void => {
    const helper =
      site.sub === 11 ? options.fillFunction : site.sub === 10 ? options.copyFunction : undefined;
    if (options.shouldMeter && helper !== undefined) {
      out.push(0x10, ...encodeU32(helper)); // same operands, charged inside
      return;
    }
    const unitBytes = bulkUnitBytes[site.sub] as number;
    out.push(0x21, ...lengthLocal); // stash the length: the other operands stay on the stack
    if (options.shouldMeter) {
      // fuel -= fuelForBytes(length × unit) = (bytes + BYTES_PER_FUEL - 1) >> log2, then check:
      // a length the budget (or slice) cannot pay traps (or yields) before the work is done.
      out.push(0x23, ...fuel);
      emitLengthBytes(unitBytes);
      out.push(0x42, ...encodeS64(BigInt(BYTES_PER_FUEL - 1)), 0x7c); // i64.add
      out.push(0x42, ...encodeS64(BigInt(fuelShift)), 0x88); // i64.shr_u
      emitSubtractAndCheck();
    }
    if (site.sub !== tableGrowSub || options.memLeftGlobal === undefined) {
      out.push(0x20, ...lengthLocal).append(instruction);
      return;
    }
    // table.grow under the memory cap: over what is left, ask for 2^32-1 elements, which every
    // table refuses (maxima are at most maxTableElements), so the guest sees -1.
    const left = encodeU32(options.memLeftGlobal);
    emitLengthBytes(unitBytes);
    out.push(0x23, ...left, 0x56, 0x04, 0x40); // global.get left; i64.gt_u; if
    out.push(0x41, 0x7f, 0x21, ...lengthLocal); // length = -1
    if (options.growRefusedGlobal !== undefined)
      out.push(0x41, 0x01, 0x24, ...encodeU32(options.growRefusedGlobal));
    out.push(0x0b, 0x20, ...lengthLocal).append(instruction);
    // if (result != -1) left -= length × unit
    out.push(0x22, ...resultLocal, 0x41, 0x7f, 0x47, 0x04, 0x40, 0x23, ...left);
    emitLengthBytes(unitBytes);
    out.push(0x7d, 0x24, ...left, 0x0b, 0x20, ...resultLocal);
  };

  out.append(encodeU32(groupCount + (usesTemp ? 1 : 0) + (hasBulk ? 1 : 0)));
  const prefixLength = encodeU32(groupCount).length;
  out.append(body.subarray(prefixLength, codeStart));
  if (usesTemp) out.push(0x01, 0x7e);
  if (hasBulk) out.push(0x02, 0x7f);

  let copied = codeStart;
  let siteIndex = 0;
  const copyUntil = (end: number): void => {
    for (let site = sites[siteIndex]; site !== undefined && site.at < end;) {
      out.append(body.subarray(copied, site.at));
      const r = new ByteReader(body, site.at);
      readInstruction(r);
      if (site.sub < 0) out.push(0x10, ...encodeU32(options.growFunction as number));
      else emitBulk(site, body.subarray(site.at, r.pos));
      copied = r.pos;
      site = sites[++siteIndex];
    }
    if (copied < end) out.append(body.subarray(copied, end));
    copied = Math.max(copied, end);
  };
  for (const insertion of insertions) {
    copyUntil(insertion.at);
    if (options.shouldMeter && insertion.at < body.length) emitCharge(insertion);
  }
  copyUntil(body.length);
}
