// Fuel metering of one function body: charges each straight-line segment its cost when it is
// entered, and checks the counter at the function entry and at every loop header.
import { ByteReader, encodeS64, encodeU32 } from './byte-reader.js';
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
  /** False leaves fuel alone (only `memory.grow` is replaced). */
  shouldMeter: boolean;
}

interface Insertion {
  at: number;
  cost: number;
  isCheck: boolean;
}

/** Rewrites one code-section body (locals + instructions, without its size prefix). */
export function meterFunction(body: Uint8Array, options: MeterOptions): Uint8Array {
  const reader = new ByteReader(body);
  const groupCount = reader.u32();
  let localCount = 0;
  for (let i = 0; i < groupCount; i++) {
    localCount += reader.u32();
    reader.u8();
  }
  const codeStart = reader.pos;
  const tempLocal = options.paramCount + localCount;

  // Pass 1: segment boundaries and their costs, grow sites, and whether the function is a leaf.
  const insertions: Insertion[] = [{ at: codeStart, cost: 0, isCheck: true }];
  const growSites: number[] = [];
  let isLeaf = true;
  let depth = 0;
  while (!reader.isAtEnd) {
    const at = reader.pos;
    const { op } = readInstruction(reader);
    const current = insertions[insertions.length - 1] as Insertion;
    current.cost += instructionCost(op);
    if (op === 0x40) growSites.push(at);
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

  const out: number[] = [];
  const fuel = encodeU32(options.fuelGlobal);
  const temp = encodeU32(tempLocal);
  const outOfFuel =
    options.outOfFuelFunction === undefined
      ? [0x00]
      : [0x10, ...encodeU32(options.outOfFuelFunction)];
  const emitCharge = (insertion: Insertion): void => {
    if (insertion.isCheck) {
      // fuel -= cost; if (fuel < 0) unreachable (or call outOfFuelFunction)
      out.push(0x23, ...fuel);
      if (insertion.cost > 0) out.push(0x42, ...encodeS64(BigInt(insertion.cost)), 0x7d);
      out.push(
        0x22,
        ...temp,
        0x24,
        ...fuel,
        0x20,
        ...temp,
        0x42,
        0x00,
        0x53,
        0x04,
        0x40,
        ...outOfFuel,
        0x0b,
      );
    } else if (insertion.cost > 0) {
      out.push(0x23, ...fuel, 0x42, ...encodeS64(BigInt(insertion.cost)), 0x7d, 0x24, ...fuel);
    }
  };

  // Locals: the originals plus one i64 scratch local for the check.
  const usesTemp = options.shouldMeter && insertions.some((i) => i.isCheck);
  out.push(...encodeU32(groupCount + (usesTemp ? 1 : 0)));
  const prefixLength = encodeU32(groupCount).length;
  for (let i = prefixLength; i < codeStart; i++) out.push(body[i] as number);
  if (usesTemp) out.push(0x01, 0x7e);

  let copied = codeStart;
  let growIndex = 0;
  const copyUntil = (end: number): void => {
    while (copied < end) {
      const grow = growSites[growIndex];
      if (grow !== undefined && grow < end && options.growFunction !== undefined) {
        for (; copied < grow; copied++) out.push(body[copied] as number);
        out.push(0x10, ...encodeU32(options.growFunction));
        // skip `memory.grow` and its memory index
        const r = new ByteReader(body, grow);
        readInstruction(r);
        copied = r.pos;
        growIndex++;
        continue;
      }
      out.push(body[copied] as number);
      copied++;
    }
  };
  for (const insertion of insertions) {
    copyUntil(insertion.at);
    if (options.shouldMeter && insertion.at < body.length) emitCharge(insertion);
  }
  copyUntil(body.length);
  return Uint8Array.from(out);
}
