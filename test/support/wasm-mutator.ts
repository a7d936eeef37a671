// Seeded mutation of Wasm binaries for the loader fuzz: byte-level damage, section-level lies
// (sizes, LEB128 encodings, counts, limits, ids, order) and stack-neutral code insertions that
// often keep the module valid, so the rewriter sees real variety. Deterministic for a seed.
import { ByteReader } from '../../src/runtime/wasm/byte-reader.js';
import { readInstruction } from '../../src/runtime/wasm/instruction.js';

/** A small seeded PRNG (mulberry32): the same seed gives the same mutations on every machine. */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return { next, int, pick: <T>(items: readonly T[]): T => items[int(items.length)] as T };
}

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
}

interface RawSection {
  id: number;
  content: Uint8Array;
}

/** Unsigned LEB128, optionally padded to `width` bytes (an overlong but legal encoding). */
function leb(value: number, width = 0): number[] {
  const out: number[] = [];
  let v = value;
  do {
    out.push(v % 128);
    v = Math.floor(v / 128);
  } while (v > 0);
  while (out.length < width) out.push(0);
  return out.map((byte, i) => (i < out.length - 1 ? byte | 0x80 : byte));
}

/** Sections of a well-formed-enough binary; undefined once its structure is already broken. */
function split(bytes: Uint8Array): RawSection[] | undefined {
  if (bytes.length < 8) return undefined;
  const reader = new ByteReader(bytes, 8);
  const sections: RawSection[] = [];
  try {
    while (!reader.isAtEnd) {
      const id = reader.u8();
      const size = reader.u32();
      const start = reader.pos;
      reader.skip(size);
      sections.push({ id, content: bytes.subarray(start, start + size) });
    }
  } catch {
    return undefined;
  }
  return sections;
}

function join(
  header: Uint8Array,
  sections: { id: number; size: number[]; content: ArrayLike<number> }[],
) {
  const out: number[] = [...header];
  for (const s of sections) {
    out.push(s.id, ...s.size);
    for (let i = 0; i < s.content.length; i++) out.push(s.content[i] as number);
  }
  return Uint8Array.from(out);
}

function rebuild(bytes: Uint8Array, sections: RawSection[]): Uint8Array {
  return join(
    bytes.subarray(0, 8),
    sections.map((s) => ({ id: s.id, size: leb(s.content.length), content: s.content })),
  );
}

const hugeCounts = [0xffffffff, 0x7fffffff, 0x80000000, 1 << 20, 100_001, 1_000_001, 65_536];
const limitValues = [0, 1, 2, 16, 256, 32_768, 65_536, 65_537, 1_000_001, 0x7fffffff, 0xffffffff];
const limitFlags = [0, 1, 2, 3, 4, 5, 7, 8, 0x80, 0xff];
const interesting = [0x00, 0x01, 0x0b, 0x40, 0x41, 0x60, 0x7f, 0x80, 0xfc, 0xfd, 0xfe, 0xff];

/**
 * Stack-neutral instruction sequences: valid wherever an instruction may stand (memory ones
 * only in a module with a memory, which the fuzzed seeds all define).
 */
const snippets: number[][] = [
  [0x01],
  [0x02, 0x40, 0x0b],
  [0x03, 0x40, 0x0b],
  [0x41, 0x7f, 0x1a],
  [0x42, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f, 0x1a],
  [0x41, 0x00, 0x40, 0x00, 0x1a], // memory.grow 0
  [0x41, 0x01, 0x40, 0x00, 0x1a],
  [0x3f, 0x00, 0x1a], // memory.size
  [0x41, 0x00, 0x41, 0x00, 0x41, 0x10, 0xfc, 0x0b, 0x00], // memory.fill
  [0x41, 0x00, 0x41, 0x00, 0x41, 0x10, 0xfc, 0x0a, 0x00, 0x00], // memory.copy
  [0x02, 0x40, 0x41, 0x01, 0x0d, 0x00, 0x0b], // block br_if end
  [0x41, 0x00, 0x04, 0x40, 0x01, 0x05, 0x01, 0x0b], // if else end
  [0x03, 0x40, 0x41, 0x00, 0x0d, 0x00, 0x0b], // loop (br_if 0 (i32.const 0)) end
  [0x02, 0x40, 0x03, 0x40, 0x0c, 0x01, 0x0b, 0x0b], // block loop br 1 end end
  [0x02, 0x40, 0x41, 0x00, 0x0e, 0x01, 0x00, 0x00, 0x0b], // block br_table end
  [0x43, 0, 0, 0x80, 0x7f, 0xfc, 0x00, 0x1a], // i32.trunc_sat_f32_s (+inf)
  [0x41, 0x02, 0xc0, 0x1a], // i32.extend8_s
];

/** Interchangeable opcodes (same stack signature): swapping within a class keeps validity. */
const opcodeClasses: number[][] = [
  range(0x6a, 0x78), // i32 binary
  range(0x7c, 0x8a), // i64 binary
  range(0x46, 0x4f), // i32 compare
  range(0x51, 0x5a), // i64 compare
  [0x67, 0x68, 0x69], // i32 unary
  [0x79, 0x7a, 0x7b], // i64 unary
];

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** Instruction start offsets of one function body (locals skipped), or undefined if undecodable. */
function instructionStarts(body: Uint8Array): number[] | undefined {
  try {
    const reader = new ByteReader(body);
    for (let n = reader.u32(); n > 0; n--) {
      reader.u32();
      reader.u8();
    }
    const starts: number[] = [];
    while (!reader.isAtEnd) {
      starts.push(reader.pos);
      readInstruction(reader);
    }
    return starts;
  } catch {
    return undefined;
  }
}

/** Function bodies of a code section: [start, end) offsets into its content. */
function bodiesOf(content: Uint8Array): { start: number; end: number }[] | undefined {
  try {
    const reader = new ByteReader(content);
    const bodies: { start: number; end: number }[] = [];
    for (let n = reader.u32(); n > 0; n--) {
      const size = reader.u32();
      bodies.push({ start: reader.pos, end: reader.pos + size });
      reader.skip(size);
    }
    return bodies;
  } catch {
    return undefined;
  }
}

/** Rewrites one function body of the code section with `edit`; undefined when not possible. */
function editBody(
  bytes: Uint8Array,
  rng: Rng,
  edit: (body: Uint8Array, starts: number[]) => Uint8Array | undefined,
): Uint8Array | undefined {
  const sections = split(bytes);
  const code = sections?.find((s) => s.id === 10);
  if (!sections || !code) return undefined;
  const bodies = bodiesOf(code.content);
  if (!bodies || bodies.length === 0) return undefined;
  const index = rng.int(bodies.length);
  const target = bodies[index] as { start: number; end: number };
  const body = code.content.subarray(target.start, target.end);
  const starts = instructionStarts(body);
  if (!starts || starts.length < 2) return undefined;
  const edited = edit(body, starts);
  if (!edited) return undefined;
  const out: number[] = [...leb(bodies.length)];
  bodies.forEach((b, i) => {
    const content = i === index ? edited : code.content.subarray(b.start, b.end);
    out.push(...leb(content.length), ...content);
  });
  code.content = Uint8Array.from(out);
  return rebuild(bytes, sections);
}

type Mutator = (bytes: Uint8Array, rng: Rng, donors: Uint8Array[]) => Uint8Array | undefined;

/** Every mutation by name; each returns undefined when it does not apply to these bytes. */
export const mutators: Record<string, Mutator> = {
  flipBits(bytes, rng) {
    const out = Uint8Array.from(bytes);
    for (let n = 1 + rng.int(8); n > 0; n--) {
      const at = rng.int(out.length);
      out[at] = (out[at] as number) ^ (1 << rng.int(8));
    }
    return out;
  },
  setInterestingByte(bytes, rng) {
    const out = Uint8Array.from(bytes);
    out[8 + rng.int(Math.max(1, out.length - 8))] = rng.pick(interesting);
    return out;
  },
  truncate(bytes, rng) {
    return bytes.slice(0, rng.int(bytes.length));
  },
  insertBytes(bytes, rng) {
    const at = rng.int(bytes.length + 1);
    const added = Array.from({ length: 1 + rng.int(16) }, () => rng.int(256));
    return Uint8Array.from([...bytes.subarray(0, at), ...added, ...bytes.subarray(at)]);
  },
  deleteRange(bytes, rng) {
    const at = rng.int(bytes.length);
    const length = 1 + rng.int(Math.min(32, bytes.length - at));
    return Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(at + length)]);
  },
  sectionSizeLie(bytes, rng) {
    const sections = split(bytes);
    if (!sections?.length) return undefined;
    const victim = rng.int(sections.length);
    return join(
      bytes.subarray(0, 8),
      sections.map((s, i) => {
        if (i !== victim) return { id: s.id, size: leb(s.content.length), content: s.content };
        const lie = rng.pick([
          0,
          s.content.length + 1,
          Math.max(0, s.content.length - 1),
          s.content.length + 1 + rng.int(64),
          0xffffffff,
          0x7fffffff,
        ]);
        return { id: s.id, size: leb(lie), content: s.content };
      }),
    );
  },
  overlongLeb(bytes, rng) {
    // A section size re-encoded: padded to 5 bytes (legal), 6+ bytes (too long) or with
    // bits past 32 set in the fifth byte (overflow).
    const sections = split(bytes);
    if (!sections?.length) return undefined;
    const victim = rng.int(sections.length);
    const form = rng.int(3);
    return join(
      bytes.subarray(0, 8),
      sections.map((s, i) => {
        let size = leb(s.content.length);
        if (i === victim) {
          if (form === 0) size = leb(s.content.length, 5);
          else if (form === 1) size = leb(s.content.length, 6 + rng.int(6));
          else {
            size = leb(s.content.length, 5);
            size[4] = (size[4] as number) | 0x70;
          }
        }
        return { id: s.id, size, content: s.content };
      }),
    );
  },
  overlongCount(bytes, rng) {
    // The first LEB of a section (its vector count) padded or overflowed in place.
    const sections = split(bytes);
    const candidates = sections?.filter((s) => s.id !== 0 && s.content.length > 0) ?? [];
    if (!sections || candidates.length === 0) return undefined;
    const victim = rng.pick(candidates);
    const reader = new ByteReader(victim.content);
    let count: number;
    try {
      count = reader.u32();
    } catch {
      return undefined;
    }
    const encoded = leb(count, rng.pick([5, 6, 11]));
    if (rng.int(2) === 0 && encoded.length >= 5) encoded[4] = (encoded[4] as number) | 0x70;
    victim.content = Uint8Array.from([...encoded, ...victim.content.subarray(reader.pos)]);
    return rebuild(bytes, sections);
  },
  hugeCount(bytes, rng) {
    const sections = split(bytes);
    const candidates = sections?.filter((s) => s.id !== 0 && s.content.length > 0) ?? [];
    if (!sections || candidates.length === 0) return undefined;
    const victim = rng.pick(candidates);
    const reader = new ByteReader(victim.content);
    try {
      reader.u32();
    } catch {
      return undefined;
    }
    victim.content = Uint8Array.from([
      ...leb(rng.pick(hugeCounts)),
      ...victim.content.subarray(reader.pos),
    ]);
    return rebuild(bytes, sections);
  },
  hugeLimits(bytes, rng) {
    // Memory (5) or table (4) limits replaced: flags (max, shared, 64-bit, unknown), min, max.
    const sections = split(bytes);
    if (!sections) return undefined;
    const isTable = rng.int(2) === 0;
    const flags = rng.pick(limitFlags);
    const limits = [flags, ...leb(rng.pick(limitValues))];
    if (flags & 1) limits.push(...leb(rng.pick(limitValues)));
    const entry = isTable ? [0x70, ...limits] : limits;
    const count = 1 + (rng.int(8) === 0 ? rng.int(12) : 0);
    const content = Uint8Array.from([
      ...leb(count),
      ...Array.from({ length: count }, () => entry).flat(),
    ]);
    const id = isTable ? 4 : 5;
    const existing = sections.find((s) => s.id === id);
    if (existing) existing.content = content;
    else {
      const after = sections.findIndex((s) => s.id > id && s.id !== 13 && s.id !== 0);
      sections.splice(after < 0 ? sections.length : after, 0, { id, content });
    }
    return rebuild(bytes, sections);
  },
  duplicateSection(bytes, rng) {
    const sections = split(bytes);
    if (!sections?.length) return undefined;
    const victim = rng.int(sections.length);
    sections.splice(victim + rng.int(2), 0, { ...(sections[victim] as RawSection) });
    return rebuild(bytes, sections);
  },
  swapSections(bytes, rng) {
    const sections = split(bytes);
    if (!sections || sections.length < 2) return undefined;
    const a = rng.int(sections.length);
    const b = rng.int(sections.length);
    [sections[a], sections[b]] = [sections[b] as RawSection, sections[a] as RawSection];
    return rebuild(bytes, sections);
  },
  randomSectionId(bytes, rng) {
    const sections = split(bytes);
    if (!sections?.length) return undefined;
    (sections[rng.int(sections.length)] as RawSection).id = rng.pick([
      rng.int(256),
      12,
      13,
      14,
      0x7f,
      0x80,
    ]);
    return rebuild(bytes, sections);
  },
  spliceDonorSection(bytes, rng, donors) {
    const sections = split(bytes);
    const donor = split(rng.pick(donors));
    if (!sections || !donor?.length) return undefined;
    const taken = rng.pick(donor);
    const same = sections.findIndex((s) => s.id === taken.id);
    if (same >= 0 && rng.int(2) === 0) sections[same] = taken;
    else sections.splice(rng.int(sections.length + 1), 0, taken);
    return rebuild(bytes, sections);
  },
  insertSnippet(bytes, rng) {
    return editBody(bytes, rng, (body, starts) => {
      // Any instruction start but the final `end` (index 0 is the first instruction).
      const at = starts[rng.int(starts.length - 1)] as number;
      let snippet = rng.pick(snippets);
      for (let depth = rng.int(3); depth > 0; depth--) snippet = [0x02, 0x40, ...snippet, 0x0b];
      return Uint8Array.from([...body.subarray(0, at), ...snippet, ...body.subarray(at)]);
    });
  },
  swapOpcode(bytes, rng) {
    return editBody(bytes, rng, (body, starts) => {
      const sites = starts.filter((at) =>
        opcodeClasses.some((c) => c.includes(body[at] as number)),
      );
      if (sites.length === 0) return undefined;
      const at = rng.pick(sites);
      const cls = opcodeClasses.find((c) => c.includes(body[at] as number)) as number[];
      const out = Uint8Array.from(body);
      out[at] = rng.pick(cls);
      return out;
    });
  },
  damageBody(bytes, rng) {
    // One byte of a function's code set to an opcode or prefix byte: truncated immediates,
    // unknown prefixed instructions, unbalanced blocks.
    return editBody(bytes, rng, (body, starts) => {
      const out = Uint8Array.from(body);
      const at = rng.pick(starts);
      out[at] = rng.pick([
        0x02, 0x03, 0x04, 0x0b, 0x0e, 0x1c, 0x40, 0x41, 0x42, 0xfc, 0xfd, 0xfe, 0xff,
      ]);
      return out;
    });
  },
};

export const mutatorNames = Object.keys(mutators);

/** One fuzz case: 1–3 stacked mutations of a seed module, and their names for the report. */
export function mutate(
  seed: Uint8Array,
  rng: Rng,
  donors: Uint8Array[],
): { bytes: Uint8Array; applied: string[] } {
  let bytes = seed;
  const applied: string[] = [];
  for (let n = 1 + rng.int(3); n > 0; n--) {
    const name = rng.pick(mutatorNames);
    const next = (mutators[name] as Mutator)(bytes, rng, donors);
    if (next) {
      bytes = next;
      applied.push(name);
    }
  }
  return { bytes, applied };
}
