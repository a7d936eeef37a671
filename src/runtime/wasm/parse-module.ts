// Reads the structure of a Wasm binary (sections, types, imports, exports, memories, counts)
// without compiling it: the input of the import check, the limits and the fuel rewriter.
import { ByteReader, DecodeError } from './byte-reader.js';
import { readInstruction } from './instruction.js';

export const SectionId = {
  custom: 0,
  type: 1,
  import: 2,
  function: 3,
  table: 4,
  memory: 5,
  global: 6,
  export: 7,
  start: 8,
  element: 9,
  code: 10,
  data: 11,
  dataCount: 12,
  tag: 13,
} as const;

export interface Section {
  id: number;
  /** Offset of the section id byte. */
  start: number;
  /** Offset of the first content byte (after the size). */
  contentStart: number;
  /** Offset one past the last content byte. */
  end: number;
}

/** A function signature as value-type bytes (0x7f i32, 0x7e i64, 0x7d f32, 0x7c f64, …). */
export interface FuncType {
  params: number[];
  results: number[];
}

export type ImportKind = 'func' | 'table' | 'memory' | 'global' | 'tag';

export interface ModuleImport {
  module: string;
  name: string;
  kind: ImportKind;
  /** For functions: the index into `types`. */
  typeIndex?: number;
}

export interface MemoryLimits {
  /** bit 0: has a maximum, bit 1: shared, bit 2: 64-bit. */
  flags: number;
  /** Pages of 64 KiB. */
  min: number;
  max?: number;
}

export interface ModuleExport {
  name: string;
  kind: ImportKind;
  index: number;
}

export interface ParsedModule {
  bytes: Uint8Array;
  sections: Section[];
  types: FuncType[];
  imports: ModuleImport[];
  importedFuncCount: number;
  importedGlobalCount: number;
  /** Type index of each function defined in the module. */
  functionTypes: number[];
  tables: MemoryLimits[];
  memories: MemoryLimits[];
  globalCount: number;
  exports: ModuleExport[];
  elementCount: number;
  /**
   * Functions that can be called other than by a direct `call` from the module's code: exported,
   * the start function, in element segments (tables), or taken by `ref.func` in a constant
   * expression. (`ref.func` in function bodies is found by the rewriter's own scan.)
   */
  referencedFunctions: Set<number>;
  dataCount: number;
  /** Offsets of each function body (after its size). */
  codeBodies: { start: number; end: number }[];
}

const kinds: readonly ImportKind[] = ['func', 'table', 'memory', 'global', 'tag'];

function kindOf(byte: number): ImportKind {
  const kind = kinds[byte];
  if (!kind) throw new DecodeError(`unknown external kind ${byte}`);
  return kind;
}

function readLimits(reader: ByteReader): MemoryLimits {
  const flags = reader.u8();
  if (flags & 0x04) throw new DecodeError('64-bit memories and tables are not supported');
  if (flags > 0x07) throw new DecodeError(`unknown limits flags ${flags}`);
  const min = reader.u32();
  return flags & 0x01 ? { flags, min, max: reader.u32() } : { flags, min };
}

function readRefType(reader: ByteReader): void {
  const type = reader.u8();
  if (type === 0x63 || type === 0x64) reader.sleb();
}

function readTypes(reader: ByteReader): FuncType[] {
  const count = reader.u32();
  const types: FuncType[] = [];
  for (let i = 0; i < count; i++) {
    const form = reader.u8();
    if (form !== 0x60) throw new DecodeError(`unsupported type form 0x${form.toString(16)}`);
    const params: number[] = [];
    const results: number[] = [];
    for (let n = reader.u32(); n > 0; n--) params.push(reader.u8());
    for (let n = reader.u32(); n > 0; n--) results.push(reader.u8());
    types.push({ params, results });
  }
  return types;
}

/** Reads a constant expression up to and including its `end`, noting `ref.func` targets. */
function readConstExpr(reader: ByteReader, referenced: Set<number>): void {
  for (;;) {
    if (reader.bytes[reader.pos] === 0xd2) {
      reader.u8();
      referenced.add(reader.u32());
      continue;
    }
    if (readInstruction(reader).op === 0x0b) return;
  }
}

/**
 * One element segment (its 8 encodings by flags: bit 0 passive or declarative, bit 1 with a
 * table index or declarative, bit 2 expressions instead of function indices).
 */
function readElement(reader: ByteReader, referenced: Set<number>): void {
  const flags = reader.u32();
  if (flags > 7) throw new DecodeError(`unknown element segment flags ${flags}`);
  if ((flags & 0x01) === 0) {
    if (flags & 0x02) reader.u32(); // table index
    readConstExpr(reader, referenced); // offset
  }
  if (flags & 0x03) {
    if (flags & 0x04) readRefType(reader);
    else reader.u8(); // element kind
  }
  for (let n = reader.u32(); n > 0; n--) {
    if (flags & 0x04) readConstExpr(reader, referenced);
    else referenced.add(reader.u32());
  }
}

/** Decodes the module's structure; throws `DecodeError` on malformed bytes. */
export function parseModule(bytes: Uint8Array): ParsedModule {
  const reader = new ByteReader(bytes);
  const magic = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  for (const expected of magic) {
    if (reader.u8() !== expected)
      throw new DecodeError('not a Wasm 1.0 binary (bad magic or version)');
  }
  const module: ParsedModule = {
    bytes,
    sections: [],
    types: [],
    imports: [],
    importedFuncCount: 0,
    importedGlobalCount: 0,
    functionTypes: [],
    tables: [],
    memories: [],
    globalCount: 0,
    exports: [],
    elementCount: 0,
    referencedFunctions: new Set(),
    dataCount: 0,
    codeBodies: [],
  };
  while (!reader.isAtEnd) {
    const start = reader.pos;
    const id = reader.u8();
    const size = reader.u32();
    const contentStart = reader.pos;
    const end = contentStart + size;
    if (end > bytes.length) throw new DecodeError(`section ${id} runs past the end`);
    module.sections.push({ id, start, contentStart, end });
    readSection(module, new ByteReader(bytes, contentStart, end), id);
    reader.pos = end;
  }
  return module;
}

function readSection(module: ParsedModule, reader: ByteReader, id: number): void {
  switch (id) {
    case SectionId.type:
      module.types = readTypes(reader);
      return;
    case SectionId.import:
      for (let n = reader.u32(); n > 0; n--) {
        const entry: ModuleImport = {
          module: reader.name(),
          name: reader.name(),
          kind: kindOf(reader.u8()),
        };
        if (entry.kind === 'func') {
          entry.typeIndex = reader.u32();
          module.importedFuncCount++;
        } else if (entry.kind === 'table') {
          readRefType(reader);
          readLimits(reader);
        } else if (entry.kind === 'memory') {
          readLimits(reader);
        } else if (entry.kind === 'global') {
          readRefType(reader);
          reader.u8();
          module.importedGlobalCount++;
        } else {
          reader.u8();
          reader.u32();
        }
        module.imports.push(entry);
      }
      return;
    case SectionId.function:
      for (let n = reader.u32(); n > 0; n--) module.functionTypes.push(reader.u32());
      return;
    case SectionId.table:
      for (let n = reader.u32(); n > 0; n--) {
        readRefType(reader);
        module.tables.push(readLimits(reader));
      }
      return;
    case SectionId.memory:
      for (let n = reader.u32(); n > 0; n--) module.memories.push(readLimits(reader));
      return;
    case SectionId.global:
      for (let n = reader.u32(); n > 0; n--) {
        readRefType(reader);
        reader.u8();
        readConstExpr(reader, module.referencedFunctions);
        module.globalCount++;
      }
      return;
    case SectionId.export:
      for (let n = reader.u32(); n > 0; n--) {
        const entry: ModuleExport = {
          name: reader.name(),
          kind: kindOf(reader.u8()),
          index: reader.u32(),
        };
        if (entry.kind === 'func') module.referencedFunctions.add(entry.index);
        module.exports.push(entry);
      }
      return;
    case SectionId.start:
      module.referencedFunctions.add(reader.u32());
      return;
    case SectionId.element:
      module.elementCount = reader.u32();
      for (let n = module.elementCount; n > 0; n--) readElement(reader, module.referencedFunctions);
      return;
    case SectionId.data:
      module.dataCount = reader.u32();
      return;
    case SectionId.code:
      for (let n = reader.u32(); n > 0; n--) {
        const size = reader.u32();
        module.codeBodies.push({ start: reader.pos, end: reader.pos + size });
        reader.skip(size);
      }
      return;
    default:
      return; // custom, data count, tag: nothing we need
  }
}
