// Rewrites a checked module before it is compiled: memory and table maxima capped to the limits,
// `memory.grow` routed through a helper that records refusals, the start function exported
// instead of run at instantiation, and fuel metering (an exported i64 global set to the budget).
import { FailureReason } from '../../domain/index.js';
import { ByteReader, encodeS64, encodeU32 } from './byte-reader.js';
import { meterFunction } from './meter-function.js';
import { SectionId, type ParsedModule, type Section } from './parse-module.js';
import { InstrumentExports } from './worker-messages.js';

export const pageBytes = 64 * 1024;

/** Export added for a module's start function, which the worker calls before `_start`. */
export const startExport = '__pacer_start';

export type InstrumentResult =
  { ok: true; bytes: Uint8Array } | { ok: false; reason: FailureReason; message: string };

export interface InstrumentOptions {
  memMiB: number;
  /** Fuel budget (the fuel global's initial value); undefined = not metered. */
  fuel?: bigint;
  maxTableElements: number;
  /**
   * True routes a fuel check that finds the counter below 0 through an added exported function
   * `__pacer_out_of_fuel` (body `unreachable`) instead of an inline `unreachable`, so that a
   * later pass can make running out of a fuel slice a resumable yield (resumable-module.ts).
   */
  shouldExportOutOfFuel?: boolean;
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

/**
 * Appends one by one: `out.push(...items)` passes every byte as an argument, and a section of
 * more than about 100 KB (any sizeable program's code) overflowed the stack.
 */
function pushAll(out: number[], items: ArrayLike<number>): void {
  for (let i = 0; i < items.length; i++) out.push(items[i] as number);
}

function section(id: number, content: number[] | Uint8Array): number[] {
  return [id, ...encodeU32(content.length), ...content];
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
): number[] {
  if (!original) return [...encodeU32(added.length), ...added.flat()];
  const reader = new ByteReader(bytes, original.contentStart, original.end);
  const count = reader.u32();
  return [
    ...encodeU32(count + added.length),
    ...bytes.subarray(reader.pos, original.end),
    ...added.flat(),
  ];
}

function limits(flags: number, min: number, max: number): number[] {
  return [flags | 0x01, ...encodeU32(min), ...encodeU32(max)];
}

export function instrumentModule(
  module: ParsedModule,
  options: InstrumentOptions,
): InstrumentResult {
  const { bytes } = module;
  const cap = capPages(options.memMiB);
  for (const memory of module.memories) {
    if (memory.min > cap) {
      const mib = (memory.min * pageBytes) / 1048576;
      return {
        ok: false,
        reason: FailureReason.MEMORY_LIMIT,
        message: `declares ${memory.min} pages (${mib} MiB) of memory, the cap is ${options.memMiB} MiB`,
      };
    }
  }
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
  const replaced = new Map<number, number[]>();
  const removed = new Set<number>();
  const shouldMeter = options.fuel !== undefined;
  const hasMemory = module.memories.length > 0;
  const hasGrow = hasMemory; // a helper is cheap; scanning bodies for memory.grow first is not

  // Memory: maximum at most the cap.
  if (hasMemory) {
    const memories = module.memories.map((m) =>
      limits(m.flags, m.min, Math.min(m.max ?? cap, cap)),
    );
    replaced.set(SectionId.memory, [...encodeU32(memories.length), ...memories.flat()]);
  }
  // Tables: maximum at most the element cap.
  const tableSection = find(SectionId.table);
  if (tableSection) {
    const reader = new ByteReader(bytes, tableSection.contentStart, tableSection.end);
    const out: number[] = [...encodeU32(reader.u32())];
    for (const table of module.tables) {
      const typeStart = reader.pos;
      const type = reader.u8();
      if (type === 0x63 || type === 0x64) reader.sleb();
      out.push(...bytes.subarray(typeStart, reader.pos));
      reader.u8();
      reader.u32();
      if (table.max !== undefined) reader.u32();
      out.push(
        ...limits(
          table.flags,
          table.min,
          Math.min(table.max ?? options.maxTableElements, options.maxTableElements),
        ),
      );
    }
    replaced.set(SectionId.table, out);
  }

  // New globals, the grow helper function and its type, and exports.
  const newGlobals: number[][] = [];
  const newExports: number[][] = [];
  let nextGlobal = module.importedGlobalCount + module.globalCount;
  const fuelGlobal = nextGlobal;
  if (shouldMeter) {
    newGlobals.push([0x7e, 0x01, 0x42, ...encodeS64(options.fuel ?? 0n), 0x0b]);
    newExports.push([...name(InstrumentExports.fuel), 0x03, ...encodeU32(nextGlobal++)]);
  }
  let growFunction: number | undefined;
  const helperBodies: number[][] = [];
  const newTypes: number[][] = [];
  const newFunctionTypes: number[][] = [];
  let nextFunction = module.importedFuncCount + module.functionTypes.length;
  if (hasGrow) {
    const growGlobal = nextGlobal++;
    newGlobals.push([0x7f, 0x01, 0x41, 0x00, 0x0b]);
    newExports.push([...name(InstrumentExports.growRefused), 0x03, ...encodeU32(growGlobal)]);
    newFunctionTypes.push(encodeU32(module.types.length + newTypes.length));
    newTypes.push([0x60, 0x01, 0x7f, 0x01, 0x7f]);
    growFunction = nextFunction++;
    // (param i32) (result i32) (local i32): grow, and on -1 set the refused flag.
    const g = encodeU32(growGlobal);
    const body = [
      0x01,
      0x01,
      0x7f,
      0x20,
      0x00,
      0x40,
      0x00,
      0x22,
      0x01,
      0x41,
      0x7f,
      0x46,
      0x04,
      0x40,
      0x41,
      0x01,
      0x24,
      ...g,
      0x0b,
      0x20,
      0x01,
      0x0b,
    ];
    helperBodies.push([...encodeU32(body.length), ...body]);
  }
  let outOfFuelFunction: number | undefined;
  if (shouldMeter && options.shouldExportOutOfFuel) {
    newFunctionTypes.push(encodeU32(module.types.length + newTypes.length));
    newTypes.push([0x60, 0x00, 0x00]);
    outOfFuelFunction = nextFunction++;
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

  // Code: meter every body, route memory.grow through the helper, append the helper.
  const code: number[] = [...encodeU32(module.codeBodies.length + helperBodies.length)];
  module.codeBodies.forEach((range, i) => {
    const typeIndex = module.functionTypes[i];
    const type = typeIndex === undefined ? undefined : module.types[typeIndex];
    const body = meterFunction(bytes.subarray(range.start, range.end), {
      fuelGlobal,
      paramCount: type?.params.length ?? 0,
      growFunction,
      outOfFuelFunction,
      shouldMeter,
    });
    code.push(...encodeU32(body.length));
    for (const byte of body) code.push(byte);
  });
  for (const helper of helperBodies) pushAll(code, helper);
  replaced.set(SectionId.code, code);

  // Reassemble: originals in place (replaced or dropped), new sections at their ordered spot.
  const out: number[] = [...bytes.subarray(0, 8)];
  const pending = new Map(replaced);
  const flushBefore = (rank: number): void => {
    for (const [id, content] of [...pending].sort(
      (a, b) => (sectionOrder[a[0]] ?? 0) - (sectionOrder[b[0]] ?? 0),
    )) {
      if ((sectionOrder[id] ?? 0) < rank && !module.sections.some((s) => s.id === id)) {
        pushAll(out, section(id, content));
        pending.delete(id);
      }
    }
  };
  for (const s of module.sections) {
    if (s.id !== SectionId.custom) flushBefore(sectionOrder[s.id] ?? 0);
    if (removed.has(s.id)) continue;
    const content = pending.get(s.id);
    if (content && s.id !== SectionId.custom) {
      pushAll(out, section(s.id, content));
      pending.delete(s.id);
    } else {
      for (let i = s.start; i < s.end; i++) out.push(bytes[i] as number);
    }
  }
  flushBefore(Number.MAX_SAFE_INTEGER);
  return { ok: true, bytes: Uint8Array.from(out) };
}
