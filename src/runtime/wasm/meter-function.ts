// Fuel metering of one function body: charges each straight-line segment its cost when it is
// entered, keeps the counter in a local between charges (stored to the global at each charge,
// reloaded after calls), checks it at the function entry, at every loop header and after every
// call, and charges bulk memory and table instructions by their length (run time) before they
// run. Small leaf functions are charged by their callers (README: the cost model).
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

/** Calls after which the caller runs on (not the tail calls `return_call*`). */
const returningCallOps = new Set([0x10, 0x11, 0x14]);

/**
 * A segment that costs more than this is checked right after its charge, before it runs, so a
 * long run of straight-line code (or of calls to leaves) is refused up front, not paid for after.
 */
export const maxUncheckedFuel = 10_000;

/**
 * Largest leaf (in fuel) that its callers pay for: the call-heavy case is many calls to tiny
 * functions, and a cap keeps one call's up-front charge small next to `maxUncheckedFuel`.
 */
export const maxCallerChargedFuel = 1_000;

/** `try` and `try_table`: a handler is entered from a throw, past the code after the call. */
const handlerOps = new Set([0x06, 0x1f]);

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

/** Skips a body's local declarations; returns how many locals they declare. */
function readLocals(reader: ByteReader): { groupCount: number; localCount: number } {
  const groupCount = reader.u32();
  let localCount = 0;
  for (let i = 0; i < groupCount; i++) {
    localCount += reader.u32();
    reader.u8();
  }
  return { groupCount, localCount };
}

/** What the rewriter needs to know of a body before it meters any body (`scanFunction`). */
export interface FunctionScan {
  /**
   * The body's whole cost (every instruction once) when it is a small leaf that touches no fuel:
   * no loop, no call, no `memory.grow`, no bulk instruction, at most `maxCallerChargedFuel`. Such
   * a body runs each instruction at most once per call, so this bounds what a call costs, and is
   * exact for straight-line code.
   */
  leafCost?: number;
  /** Functions the body takes a reference to (`ref.func`): they can be called indirectly. */
  referenced: number[];
}

export function scanFunction(body: Uint8Array): FunctionScan {
  const reader = new ByteReader(body);
  readLocals(reader);
  const referenced: number[] = [];
  let cost = 0;
  let isLeaf = true;
  while (!reader.isAtEnd) {
    const at = reader.pos;
    const { op, sub } = readInstruction(reader);
    cost += instructionCost(op);
    if (op === 0xd2) referenced.push(new ByteReader(body, at + 1).u32());
    const isBulk = op === 0xfc && bulkUnitBytes[sub] !== undefined;
    if (op === 0x03 || op === 0x40 || callOps.has(op) || isBulk) isLeaf = false;
  }
  return isLeaf && cost <= maxCallerChargedFuel ? { leafCost: cost, referenced } : { referenced };
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
  /**
   * Metered only: the fuel a direct call (`call`, `return_call`) to this function index costs,
   * charged in the caller's segment, when the callee is charged by its callers; undefined when
   * the callee charges itself.
   */
  calleeCost?: (functionIndex: number) => number | undefined;
  /**
   * True when every call of this function is a direct call whose caller charges it
   * (`calleeCost`): its body is copied without metering.
   */
  isChargedByCallers?: boolean;
}

interface Charge {
  at: number;
  cost: number;
  isCheck: boolean;
}

/**
 * Code edited inside a segment: an instruction replaced (`memory.grow`, bulk memory and table
 * instructions: `sub` is the 0xFC sub-opcode, or -1 for memory.grow), or, after a call that may
 * have changed the counter, a reload of the fuel local and a check (`sub` undefined).
 */
interface Edit {
  at: number;
  end: number;
  sub?: number;
}

/**
 * Rewrites one code-section body (locals + instructions, without its size prefix) into `out`
 * (appended; nothing else is written).
 */
export function meterFunction(body: Uint8Array, options: MeterOptions, out: ByteWriter): void {
  if (options.shouldMeter && options.isChargedByCallers) {
    out.append(body);
    return;
  }
  const reader = new ByteReader(body);
  const { groupCount, localCount } = readLocals(reader);
  const codeStart = reader.pos;
  const shouldMeter = options.shouldMeter;

  // Pass 1: segment boundaries and their costs, edits, and what the body contains.
  const charges: Charge[] = [{ at: codeStart, cost: 0, isCheck: true }];
  const edits: Edit[] = [];
  let hasLoop = false;
  let hasCall = false;
  let hasHandler = false;
  let depth = 0;
  while (!reader.isAtEnd) {
    const at = reader.pos;
    const { op, sub } = readInstruction(reader);
    const current = charges[charges.length - 1] as Charge;
    current.cost += instructionCost(op);
    if (op === 0x40 && options.growFunction !== undefined)
      edits.push({ at, end: reader.pos, sub: -1 });
    if (op === 0xfc && bulkUnitBytes[sub] !== undefined) {
      const isCapped = sub === tableGrowSub && options.memLeftGlobal !== undefined;
      if (shouldMeter || isCapped) edits.push({ at, end: reader.pos, sub });
    }
    if (op === 0x03) hasLoop = true;
    if (handlerOps.has(op)) hasHandler = true;
    if (callOps.has(op)) {
      const isDirect = op === 0x10 || op === 0x12;
      const leafCost = isDirect
        ? options.calleeCost?.(new ByteReader(body, at + 1).u32())
        : undefined;
      if (shouldMeter && leafCost !== undefined) {
        current.cost += leafCost; // charged with the segment: the callee touches no fuel
      } else {
        hasCall = true;
        if (shouldMeter && returningCallOps.has(op))
          edits.push({ at: reader.pos, end: reader.pos });
      }
    }
    if (op === 0x02 || op === 0x03 || op === 0x04 || op === 0x06 || op === 0x1f) depth++;
    if (op === 0x0b || op === 0x18) depth--;
    if (segmentEnders.has(op) && depth >= 0) {
      charges.push({ at: reader.pos, cost: 0, isCheck: op === 0x03 });
    }
  }
  // A function without loops or calls (other than to leaves its segments pay for) runs a bounded
  // number of instructions: its callers' checks suffice, which saves a compare and branch per
  // call in call-heavy code.
  (charges[0] as Charge).isCheck = hasLoop || hasCall;
  for (const charge of charges) if (charge.cost > maxUncheckedFuel) charge.isCheck = true;
  // The counter lives in a local between charges: one register, not a load and a store chained
  // through memory on every segment. Every charge still stores it to the global (a trap or an
  // exit reports it exactly), and every call may change the global (a callee's charges, a host
  // call's), so the local is reloaded after each. A handler (`catch`, a `try_table` target) is
  // entered from a throw in a callee, past that reload: in a body with one, every charge starts
  // from the global instead.
  const isLocalCached = !hasHandler;

  // Added locals: the fuel local (i64; also the scratch of bulk sites), and two i32 (a length, a
  // result) for bulk sites.
  const hasBulk = edits.some((e) => e.sub !== undefined && e.sub >= 0);
  const hasFuelLocal = shouldMeter || hasBulk;
  const fuelLocal = options.paramCount + localCount;
  const fuel = encodeU32(options.fuelGlobal);
  const local = encodeU32(fuelLocal);
  const lengthLocal = encodeU32(fuelLocal + 1);
  const resultLocal = encodeU32(fuelLocal + 2);
  const outOfFuel =
    options.outOfFuelFunction === undefined
      ? [0x00]
      : // The resident helper yields until its slices have paid; the global is refilled then.
        [0x10, ...encodeU32(options.outOfFuelFunction), 0x23, ...fuel, 0x21, ...local];

  /** if (fuel local < 0) unreachable (or call outOfFuelFunction and reload). */
  const emitCheck = (): void => {
    out.push(0x20, ...local, 0x42, 0x00, 0x53, 0x04, 0x40, ...outOfFuel, 0x0b);
  };
  /** After a call: the local from the global, checked. */
  const emitReloadAndCheck = (): void => {
    out.push(0x23, ...fuel, 0x21, ...local);
    emitCheck();
  };
  /** Pushes the counter as it is now. */
  const emitCounter = (isEntry: boolean): void => {
    if (isLocalCached && !isEntry) out.push(0x20, ...local);
    else out.push(0x23, ...fuel);
  };
  /** The counter minus the i64 on the stack, into the local and the global. */
  const emitSubtract = (): void => {
    out.push(0x7d, 0x22, ...local, 0x24, ...fuel);
  };
  const emitCharge = (charge: Charge, isEntry: boolean): void => {
    if (charge.cost > 0) {
      emitCounter(isEntry);
      out.push(0x42, ...encodeS64(BigInt(charge.cost)));
      emitSubtract();
    } else if (isEntry || (charge.isCheck && !isLocalCached)) {
      out.push(0x23, ...fuel, 0x21, ...local);
    }
    if (charge.isCheck) emitCheck();
  };
  /** Pushes (i64) length × unitBytes from the length local. */
  const emitLengthBytes = (unitBytes: number): void => {
    out.push(0x20, ...lengthLocal, 0xad); // local.get; i64.extend_i32_u
    if (unitBytes !== 1) out.push(0x42, ...encodeS64(BigInt(unitBytes)), 0x7e); // i64.mul
  };
  /** Rewrites one bulk instruction whose operands are on the stack, length on top. */
  const emitBulk = (sub: number, instruction: Uint8Array): void => {
    const helper =
      sub === 11 ? options.fillFunction : sub === 10 ? options.copyFunction : undefined;
    if (shouldMeter && helper !== undefined) {
      out.push(0x10, ...encodeU32(helper)); // same operands, charged inside
      emitReloadAndCheck();
      return;
    }
    const unitBytes = bulkUnitBytes[sub] as number;
    out.push(0x21, ...lengthLocal); // stash the length: the other operands stay on the stack
    if (shouldMeter) {
      // fuel -= fuelForBytes(length × unit) = (bytes + BYTES_PER_FUEL - 1) >> log2, then check:
      // a length the budget (or slice) cannot pay traps (or yields) before the work is done.
      emitCounter(false);
      emitLengthBytes(unitBytes);
      out.push(0x42, ...encodeS64(BigInt(BYTES_PER_FUEL - 1)), 0x7c); // i64.add
      out.push(0x42, ...encodeS64(BigInt(fuelShift)), 0x88); // i64.shr_u
      emitSubtract();
      emitCheck();
    }
    if (sub !== tableGrowSub || options.memLeftGlobal === undefined) {
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

  out.append(encodeU32(groupCount + (hasFuelLocal ? 1 : 0) + (hasBulk ? 1 : 0)));
  const prefixLength = encodeU32(groupCount).length;
  out.append(body.subarray(prefixLength, codeStart));
  if (hasFuelLocal) out.push(0x01, 0x7e);
  if (hasBulk) out.push(0x02, 0x7f);

  let copied = codeStart;
  let editIndex = 0;
  const copyUntil = (end: number): void => {
    for (let edit = edits[editIndex]; edit !== undefined && edit.at < end;) {
      out.append(body.subarray(copied, edit.at));
      if (edit.sub === undefined) emitReloadAndCheck();
      else if (edit.sub < 0) {
        out.push(0x10, ...encodeU32(options.growFunction as number));
        if (shouldMeter) emitReloadAndCheck(); // the helper charges the pages it grants
      } else emitBulk(edit.sub, body.subarray(edit.at, edit.end));
      copied = edit.end;
      edit = edits[++editIndex];
    }
    if (copied < end) out.append(body.subarray(copied, end));
    copied = Math.max(copied, end);
  };
  charges.forEach((charge, i) => {
    copyUntil(charge.at);
    if (shouldMeter && charge.at < body.length) emitCharge(charge, i === 0);
  });
  copyUntil(body.length);
}
