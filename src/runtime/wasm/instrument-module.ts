// Rewrites a checked module before it is compiled: memory and tables capped together to `mem`,
// `memory.grow` routed through a helper that records refusals, the start function exported
// instead of run at instantiation, and fuel metering (an exported i64 counter, 0 until the
// worker sets the task's budget, so one compile serves every budget).
import { FailureReason } from '../../domain/index.js';
import { ByteReader, encodeS64, encodeU32 } from './byte-reader.js';
import { ByteWriter } from './byte-writer.js';
import { BYTES_PER_FUEL } from './fuel-cost.js';
import { meterFunction, scanFunction, tableElementBytes } from './meter-function.js';
import { SectionId, type ParsedModule, type Section } from './parse-module.js';
import { InstrumentExports } from './worker-messages.js';

export const pageBytes = 64 * 1024;

/** Export added for a module's start function, which the worker calls before `_start`. */
export const startExport = '__pacer_start';

/** Where a module rewritten with `shouldImportMemory` finds its memory (pages it declares). */
export const memoryImport = { module: 'pacer', name: 'memory' } as const;

export type InstrumentResult =
  | {
      ok: true;
      bytes: Uint8Array;
      /** Set when the memory was made an import (`shouldImportMemory`): its limits in pages. */
      importedMemory?: { minPages: number; maxPages: number };
    }
  | { ok: false; reason: FailureReason; message: string };

export interface InstrumentOptions {
  memMiB: number;
  /** Adds the fuel counter and its charges; its value is set after instantiation. */
  shouldMeter: boolean;
  maxTableElements: number;
  /**
   * True routes a fuel check that finds the counter below 0 through an added exported function
   * `__pacer_out_of_fuel` (body `unreachable`) instead of an inline `unreachable`, so that a
   * later pass can make running out of a fuel slice a resumable yield (resumable-module.ts).
   */
  shouldExportOutOfFuel?: boolean;
  /** Bytes of `mem` the runtime takes for itself (the resident unwind page); default 0. */
  reservedBytes?: number;
  /**
   * Handler mode: the module's one (unshared) memory becomes an import (`memoryImport`) with the
   * same capped limits, so the runtime can hand each request's fresh instance a zeroed memory
   * from a pool instead of the engine allocating (and the GC later unmapping) one per request.
   * Ignored unless the module defines exactly one memory and imports none.
   */
  shouldImportMemory?: boolean;
}

/** Export name of the out-of-fuel helper added when `shouldExportOutOfFuel` is set. */
export const outOfFuelExport = '__pacer_out_of_fuel';

/** Pages of linear memory that fit in `memMiB`. */
export function capPages(memMiB: number): number {
  return Math.max(0, Math.floor((memMiB * 1024 * 1024) / pageBytes));
}

/** Where each section id goes in a module (custom sections keep their place). */
const sectionOrder: Record<number, number> = {
  1: 1,
  2: 2,
  3: 3,
  4: 4,
  5: 5,
  13: 6,
  6: 7,
  7: 8,
  8: 9,
  9: 10,
  12: 11,
  10: 12,
  11: 13,
};

function writeSection(out: ByteWriter, id: number, content: Uint8Array): void {
  out.push(id).append(encodeU32(content.length)).append(content);
}

function name(text: string): number[] {
  const bytes = new TextEncoder().encode(text);
  return [...encodeU32(bytes.length), ...bytes];
}

/** A vector section's content with `added` entries appended (`original` undefined = new). */
function appendEntries(
  bytes: Uint8Array,
  original: Section | undefined,
  added: number[][],
): Uint8Array {
  const out = new ByteWriter();
  if (!original) {
    out.append(encodeU32(added.length));
  } else {
    const reader = new ByteReader(bytes, original.contentStart, original.end);
    const count = reader.u32();
    out.append(encodeU32(count + added.length)).append(bytes.subarray(reader.pos, original.end));
  }
  for (const entry of added) out.append(entry);
  return out.toBytes();
}

function limits(flags: number, min: number, max: number): number[] {
  return [flags | 0x01, ...encodeU32(min), ...encodeU32(max)];
}

const mib = (bytes: number): string => `${Math.round((bytes / 1048576) * 100) / 100} MiB`;

/**
 * What the module needs of `mem` before it runs: its memory's and tables' declared minimums
 * (each table element at `tableElementBytes`), plus what the runtime reserves. MEMORY_LIMIT when
 * over the cap; otherwise the bytes left for growth.
 */
function memoryLeft(
  module: ParsedModule,
  options: InstrumentOptions,
): { ok: true; left: number } | { ok: false; message: string } {
  const capBytes = Math.floor(options.memMiB * 1024 * 1024);
  const memoryBytes = (module.memories[0]?.min ?? 0) * pageBytes;
  if (memoryBytes > capBytes) {
    const pages = module.memories[0]?.min ?? 0;
    return {
      ok: false,
      message: `declares ${pages} pages (${mib(memoryBytes)}) of memory, the cap is ${options.memMiB} MiB`,
    };
  }
  const elements = module.tables.reduce((sum, table) => sum + table.min, 0);
  const tableBytes = elements * tableElementBytes;
  const needed = memoryBytes + tableBytes + (options.reservedBytes ?? 0);
  if (needed > capBytes) {
    return {
      ok: false,
      message: `declares ${mib(memoryBytes)} of memory and ${elements} table elements (${mib(tableBytes)}), over the cap of ${options.memMiB} MiB`,
    };
  }
  return { ok: true, left: capBytes - needed };
}

export function instrumentModule(
  module: ParsedModule,
  options: InstrumentOptions,
): InstrumentResult {
  const { bytes } = module;
  const cap = capPages(options.memMiB);
  const room = memoryLeft(module, options);
  if (!room.ok) return { ok: false, reason: FailureReason.MEMORY_LIMIT, message: room.message };
  for (const name of [...Object.values(InstrumentExports), startExport, outOfFuelExport]) {
    if (module.exports.some((e) => e.name === name)) {
      return {
        ok: false,
        reason: FailureReason.INVALID_MODULE,
        message: `exports the reserved name ${name}`,
      };
    }
  }
  const find = (id: number): Section | undefined => module.sections.find((s) => s.id === id);
  const replaced = new Map<number, Uint8Array>();
  const removed = new Set<number>();
  const { shouldMeter } = options;
  const hasMemory = module.memories.length > 0;
  const hasLimits = hasMemory || module.tables.length > 0;

  // Memory: maximum at most the cap (the engine's backstop; the grow helper applies `left`).
  const onlyMemory = module.memories.length === 1 ? module.memories[0] : undefined;
  let importedMemory: { minPages: number; maxPages: number } | undefined;
  if (
    options.shouldImportMemory &&
    onlyMemory &&
    (onlyMemory.flags & 0x02) === 0 &&
    !module.imports.some((i) => i.kind === 'memory')
  ) {
    // Imports come before definitions in the memory index space: the memory stays index 0.
    importedMemory = { minPages: onlyMemory.min, maxPages: Math.min(onlyMemory.max ?? cap, cap) };
    const entry = [
      ...name(memoryImport.module),
      ...name(memoryImport.name),
      0x02,
      ...limits(onlyMemory.flags, importedMemory.minPages, importedMemory.maxPages),
    ];
    replaced.set(SectionId.import, appendEntries(bytes, find(SectionId.import), [entry]));
    removed.add(SectionId.memory);
  } else if (hasMemory) {
    const out = new ByteWriter().append(encodeU32(module.memories.length));
    for (const m of module.memories)
      out.append(limits(m.flags, m.min, Math.min(m.max ?? cap, cap)));
    replaced.set(SectionId.memory, out.toBytes());
  }
  // Tables: maximum at most the element cap and what `mem` leaves after the minimums.
  const tableSection = find(SectionId.table);
  if (tableSection) {
    const growth = Math.floor(room.left / tableElementBytes);
    const reader = new ByteReader(bytes, tableSection.contentStart, tableSection.end);
    const out = new ByteWriter().append(encodeU32(reader.u32()));
    for (const table of module.tables) {
      const typeStart = reader.pos;
      const type = reader.u8();
      if (type === 0x63 || type === 0x64) reader.sleb();
      out.append(bytes.subarray(typeStart, reader.pos));
      reader.u8();
      reader.u32();
      if (table.max !== undefined) reader.u32();
      const max = Math.min(
        table.max ?? options.maxTableElements,
        options.maxTableElements,
        table.min + growth,
      );
      out.append(limits(table.flags, table.min, Math.max(max, table.min)));
    }
    replaced.set(SectionId.table, out.toBytes());
  }

  // New globals, helper functions and their types, and exports.
  const newGlobals: number[][] = [];
  const newExports: number[][] = [];
  let nextGlobal = module.importedGlobalCount + module.globalCount;
  const fuelGlobal = nextGlobal;
  if (shouldMeter) {
    // 0 until the worker sets the task's budget: the budget is not part of the compiled module.
    newGlobals.push([0x7e, 0x01, 0x42, 0x00, 0x0b]);
    newExports.push([...name(InstrumentExports.fuel), 0x03, ...encodeU32(nextGlobal++)]);
  }
  let growRefusedGlobal: number | undefined;
  let memLeftGlobal: number | undefined;
  if (hasLimits) {
    growRefusedGlobal = nextGlobal++;
    newGlobals.push([0x7f, 0x01, 0x41, 0x00, 0x0b]);
    newExports.push([
      ...name(InstrumentExports.growRefused),
      0x03,
      ...encodeU32(growRefusedGlobal),
    ]);
    memLeftGlobal = nextGlobal++;
    newGlobals.push([0x7e, 0x01, 0x42, ...encodeS64(BigInt(room.left)), 0x0b]);
  }
  const helperBodies: number[][] = [];
  const newTypes: number[][] = [];
  const newFunctionTypes: number[][] = [];
  let nextFunction = module.importedFuncCount + module.functionTypes.length;
  const growFunction = hasMemory ? nextFunction++ : undefined;
  const fillFunction = hasMemory && shouldMeter ? nextFunction++ : undefined;
  const copyFunction = hasMemory && shouldMeter ? nextFunction++ : undefined;
  const outOfFuelFunction =
    shouldMeter && options.shouldExportOutOfFuel ? nextFunction++ : undefined;
  if (growFunction !== undefined) {
    newFunctionTypes.push(encodeU32(module.types.length + newTypes.length));
    newTypes.push([0x60, 0x01, 0x7f, 0x01, 0x7f]);
    const body = growHelper({
      fuelGlobal: shouldMeter ? fuelGlobal : undefined,
      refused: growRefusedGlobal as number,
      left: memLeftGlobal as number,
      outOfFuelFunction,
    });
    helperBodies.push([...encodeU32(body.length), ...body]);
  }
  if (fillFunction !== undefined && copyFunction !== undefined) {
    const bulkType = encodeU32(module.types.length + newTypes.length);
    newTypes.push([0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x00]); // (i32 i32 i32) -> ()
    newFunctionTypes.push(bulkType, bulkType);
    const globals = { fuelGlobal, outOfFuelFunction };
    for (const body of [chunkedFill(globals), chunkedCopy(globals)]) {
      helperBodies.push([...encodeU32(body.length), ...body]);
    }
  }
  if (outOfFuelFunction !== undefined) {
    newFunctionTypes.push(encodeU32(module.types.length + newTypes.length));
    newTypes.push([0x60, 0x00, 0x00]);
    newExports.push([...name(outOfFuelExport), 0x00, ...encodeU32(outOfFuelFunction)]);
    helperBodies.push([0x03, 0x00, 0x00, 0x0b]); // no locals; unreachable; end
  }
  if (newTypes.length > 0) {
    replaced.set(SectionId.type, appendEntries(bytes, find(SectionId.type), newTypes));
    replaced.set(
      SectionId.function,
      appendEntries(bytes, find(SectionId.function), newFunctionTypes),
    );
  }
  const startSection = find(SectionId.start);
  if (startSection) {
    const startFunction = new ByteReader(bytes, startSection.contentStart, startSection.end).u32();
    newExports.push([...name(startExport), 0x00, ...encodeU32(startFunction)]);
    removed.add(SectionId.start);
  }
  if (newGlobals.length > 0)
    replaced.set(SectionId.global, appendEntries(bytes, find(SectionId.global), newGlobals));
  if (newExports.length > 0)
    replaced.set(SectionId.export, appendEntries(bytes, find(SectionId.export), newExports));

  // Leaves that touch no fuel and are only ever called directly are charged by their callers.
  const leafCosts = shouldMeter ? chargedByCallers(module) : new Map<number, number>();

  // Code: meter every body, route memory.grow through the helper, append the helpers.
  const codeSection = find(SectionId.code);
  const code = new ByteWriter(codeSection ? (codeSection.end - codeSection.start) * 1.25 : 64);
  code.append(encodeU32(module.codeBodies.length + helperBodies.length));
  const body = new ByteWriter();
  module.codeBodies.forEach((range, i) => {
    const typeIndex = module.functionTypes[i];
    const type = typeIndex === undefined ? undefined : module.types[typeIndex];
    body.reset();
    meterFunction(
      bytes.subarray(range.start, range.end),
      {
        fuelGlobal,
        paramCount: type?.params.length ?? 0,
        growFunction,
        outOfFuelFunction,
        shouldMeter,
        memLeftGlobal,
        growRefusedGlobal,
        fillFunction,
        copyFunction,
        calleeCost: (index) => leafCosts.get(index),
        isChargedByCallers: leafCosts.has(module.importedFuncCount + i),
      },
      body,
    );
    code.append(encodeU32(body.length)).append(body.view());
  });
  for (const helper of helperBodies) code.append(helper);
  replaced.set(SectionId.code, code.view());

  // Reassemble: originals in place (replaced or dropped), new sections at their ordered spot.
  const out = new ByteWriter(bytes.length + code.length + 1024);
  out.append(bytes.subarray(0, 8));
  const pending = new Map(replaced);
  const flushBefore = (rank: number): void => {
    for (const [id, content] of [...pending].sort(
      (a, b) => (sectionOrder[a[0]] ?? 0) - (sectionOrder[b[0]] ?? 0),
    )) {
      if ((sectionOrder[id] ?? 0) < rank && !module.sections.some((s) => s.id === id)) {
        writeSection(out, id, content);
        pending.delete(id);
      }
    }
  };
  for (const s of module.sections) {
    if (s.id !== SectionId.custom) flushBefore(sectionOrder[s.id] ?? 0);
    if (removed.has(s.id)) continue;
    const content = pending.get(s.id);
    if (content && s.id !== SectionId.custom) {
      writeSection(out, s.id, content);
      pending.delete(s.id);
    } else {
      out.append(bytes.subarray(s.start, s.end));
    }
  }
  flushBefore(Number.MAX_SAFE_INTEGER);
  return { ok: true, bytes: out.toBytes(), importedMemory };
}

/**
 * Functions whose callers pay for them (README: the cost model), with what a call costs: leaves
 * that touch no fuel (`scanFunction`) that no table, export, start or `ref.func` can reach, so
 * every call of them is a direct `call` or `return_call` the rewriter sees and charges.
 */
function chargedByCallers(module: ParsedModule): Map<number, number> {
  const referenced = new Set(module.referencedFunctions);
  const leaves = new Map<number, number>();
  module.codeBodies.forEach((range, i) => {
    const scan = scanFunction(module.bytes.subarray(range.start, range.end));
    for (const index of scan.referenced) referenced.add(index);
    if (scan.leafCost !== undefined) leaves.set(module.importedFuncCount + i, scan.leafCost);
  });
  for (const index of referenced) leaves.delete(index);
  return leaves;
}

/**
 * The body of `(func (param $pages i32) (result i32))` that replaces `memory.grow`: refuses (-1,
 * and sets the refused flag) a growth past the bytes of `mem` left, otherwise grows, subtracts
 * the new pages from what is left and, when metered, charges them (`fuelForBytes`: the engine
 * zeroes and faults in each page the guest touches) with a fuel check.
 */
function growHelper(globals: {
  fuelGlobal?: number;
  refused: number;
  left: number;
  outOfFuelFunction?: number;
}): number[] {
  const refused = encodeU32(globals.refused);
  const left = encodeU32(globals.left);
  const pagesAsBytes = [0x20, 0x00, 0xad, 0x42, 0x10, 0x86]; // (i64) pages << 16
  const charge: number[] = [];
  if (globals.fuelGlobal !== undefined) {
    const fuel = encodeU32(globals.fuelGlobal);
    const shift = 16 - Math.log2(BYTES_PER_FUEL); // pages × 65536 / BYTES_PER_FUEL
    const outOfFuel =
      globals.outOfFuelFunction === undefined
        ? [0x00]
        : [0x10, ...encodeU32(globals.outOfFuelFunction)];
    charge.push(0x23, ...fuel, 0x20, 0x00, 0xad, 0x42, ...encodeS64(BigInt(shift)), 0x86, 0x7d);
    charge.push(0x22, 0x02, 0x24, ...fuel, 0x20, 0x02, 0x42, 0x00, 0x53);
    charge.push(0x04, 0x40, ...outOfFuel, 0x0b);
  }
  return [
    0x02,
    0x01,
    0x7f,
    0x01,
    0x7e, // locals: $result i32, $temp i64
    ...pagesAsBytes,
    0x23,
    ...left,
    0x56, // pages << 16 > left
    0x04,
    0x7f, // if (result i32)
    0x41,
    0x01,
    0x24,
    ...refused,
    0x41,
    0x7f, // refused = 1; -1
    0x05, // else
    0x20,
    0x00,
    0x40,
    0x00,
    0x22,
    0x01,
    0x41,
    0x7f,
    0x46, // (result = memory.grow pages) == -1
    0x04,
    0x40,
    0x41,
    0x01,
    0x24,
    ...refused, // if: refused = 1
    0x05,
    0x23,
    ...left,
    ...pagesAsBytes,
    0x7d,
    0x24,
    ...left,
    ...charge,
    0x0b, // else: left -= …
    0x20,
    0x01, // result
    0x0b,
    0x0b,
  ];
}

/**
 * Bytes of `memory.fill` / `memory.copy` charged and run per step: small enough that a step is
 * tens of microseconds, large enough that the loop costs nothing next to the copy. A multiple
 * of BYTES_PER_FUEL, so the chunks' charges add up to exactly `fuelForBytes(n)`.
 */
export const bulkChunkBytes = 1024 * 1024;

/*
 * The chunked bulk helpers, `(func (param $d i32) (param $s_or_v i32) (param $n i32))` with
 * locals $t i64 (the check's scratch) and $c i32 (this chunk). Out of bounds, they run the
 * whole instruction at once, so the engine traps before writing, as the instruction would.
 */

function chunkCharge(globals: { fuelGlobal: number; outOfFuelFunction?: number }): number[] {
  const fuel = encodeU32(globals.fuelGlobal);
  const outOfFuel =
    globals.outOfFuelFunction === undefined
      ? [0x00]
      : [0x10, ...encodeU32(globals.outOfFuelFunction)];
  const shift = Math.log2(BYTES_PER_FUEL);
  return [
    ...[0x41, ...encodeS64(BigInt(bulkChunkBytes)), 0x20, 0x02, 0x20, 0x02], // C, n, n
    ...[0x41, ...encodeS64(BigInt(bulkChunkBytes)), 0x4b, 0x1b, 0x21, 0x04], // c = n > C ? C : n
    ...[0x23, ...fuel, 0x20, 0x04, 0xad], // fuel, (i64) c
    ...[0x42, ...encodeS64(BigInt(BYTES_PER_FUEL - 1)), 0x7c, 0x42, ...encodeS64(BigInt(shift))],
    ...[0x88, 0x7d, 0x22, 0x03, 0x24, ...fuel], // fuel -= (c + 7) >> 3
    ...[0x20, 0x03, 0x42, 0x00, 0x53, 0x04, 0x40, ...outOfFuel, 0x0b], // if (fuel < 0) …
  ];
}

/** (i64) local + (i64) n > memory bytes */
function isOutOfBounds(local: number): number[] {
  return [0x20, local, 0xad, 0x20, 0x02, 0xad, 0x7c, 0x3f, 0x00, 0xad, 0x42, 0x10, 0x86, 0x56];
}

const helperLocals = [0x02, 0x01, 0x7e, 0x01, 0x7f];
const memoryFill = [0xfc, 0x0b, 0x00];
const memoryCopy = [0xfc, 0x0a, 0x00, 0x00];
/** block loop (br_if 1 (n == 0)) */
const loopWhileLeft = [0x02, 0x40, 0x03, 0x40, 0x20, 0x02, 0x45, 0x0d, 0x01];
/** local += c */
const advance = (local: number): number[] => [0x20, local, 0x20, 0x04, 0x6a, 0x21, local];

function chunkedFill(globals: { fuelGlobal: number; outOfFuelFunction?: number }): number[] {
  return [
    ...helperLocals,
    ...isOutOfBounds(0),
    ...[0x04, 0x40, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, ...memoryFill, 0x0f, 0x0b],
    ...loopWhileLeft,
    ...chunkCharge(globals),
    ...[0x20, 0x00, 0x20, 0x01, 0x20, 0x04, ...memoryFill], // fill(d, v, c)
    ...advance(0),
    ...[0x20, 0x02, 0x20, 0x04, 0x6b, 0x21, 0x02], // n -= c
    ...[0x0c, 0x00, 0x0b, 0x0b], // br loop; end loop; end block
    0x0b,
  ];
}

function chunkedCopy(globals: { fuelGlobal: number; outOfFuelFunction?: number }): number[] {
  const subtractChunk = [0x20, 0x02, 0x20, 0x04, 0x6b, 0x21, 0x02]; // n -= c
  return [
    ...helperLocals,
    ...isOutOfBounds(0),
    ...isOutOfBounds(1),
    ...[0x72, 0x04, 0x40, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, ...memoryCopy, 0x0f, 0x0b],
    // Forward when the destination is below the source, backward otherwise: as memmove, no
    // chunk reads bytes an earlier chunk wrote.
    ...[0x20, 0x00, 0x20, 0x01, 0x4d, 0x04, 0x40], // if (d <= s)
    ...loopWhileLeft,
    ...chunkCharge(globals),
    ...[0x20, 0x00, 0x20, 0x01, 0x20, 0x04, ...memoryCopy], // copy(d, s, c)
    ...advance(0),
    ...advance(1),
    ...subtractChunk,
    ...[0x0c, 0x00, 0x0b, 0x0b],
    0x05, // else
    ...loopWhileLeft,
    ...chunkCharge(globals),
    ...subtractChunk,
    ...[0x20, 0x00, 0x20, 0x02, 0x6a, 0x20, 0x01, 0x20, 0x02, 0x6a, 0x20, 0x04, ...memoryCopy],
    ...[0x0c, 0x00, 0x0b, 0x0b],
    0x0b, // end if
    0x0b,
  ];
}
