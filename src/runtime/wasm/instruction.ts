// Decodes one Wasm instruction's immediates (MVP, sign-extension, saturating truncation, bulk
// memory, reference types, tail calls, legacy and new exceptions, SIMD, threads).
import { type ByteReader, DecodeError } from './byte-reader.js';

/** The opcode of a decoded instruction; prefixed ones (0xFC, 0xFD, 0xFE) carry `sub`. */
export interface Instruction {
  op: number;
  sub: number;
}

function skipBlockType(reader: ByteReader): void {
  const first = reader.bytes[reader.pos];
  // (ref null ht) / (ref ht): a heap type follows the value-type byte.
  if (first === 0x63 || first === 0x64) {
    reader.u8();
    reader.sleb();
    return;
  }
  reader.sleb();
}

function skipMemArg(reader: ByteReader): void {
  const align = reader.u32();
  if (align & 0x40) reader.u32(); // multi-memory: memory index
  reader.skipLeb(); // offset (u64 with memory64)
}

function skipValType(reader: ByteReader): void {
  const type = reader.u8();
  if (type === 0x63 || type === 0x64) reader.sleb();
}

function readPrefixFC(reader: ByteReader, sub: number): void {
  if (sub <= 7) return; // saturating truncations
  switch (sub) {
    case 8: // memory.init data mem
    case 10: // memory.copy mem mem
    case 12: // table.init elem table
    case 14: // table.copy table table
      reader.u32();
      reader.u32();
      return;
    case 9: // data.drop
    case 11: // memory.fill
    case 13: // elem.drop
    case 15: // table.grow
    case 16: // table.size
    case 17: // table.fill
      reader.u32();
      return;
    default:
      throw new DecodeError(`unknown instruction 0xfc ${sub}`);
  }
}

function readPrefixFD(reader: ByteReader, sub: number): void {
  if (sub <= 11 || sub === 92 || sub === 93) return skipMemArg(reader); // loads, stores, *_zero
  if (sub === 12 || sub === 13) return reader.skip(16); // v128.const, i8x16.shuffle
  if (sub >= 21 && sub <= 34) return reader.skip(1); // extract/replace lane
  if (sub >= 84 && sub <= 91) {
    skipMemArg(reader); // load/store lane
    reader.skip(1);
  }
  // everything else (arithmetic, relaxed SIMD) has no immediates
}

function readPrefixFE(reader: ByteReader, sub: number): void {
  if (sub === 0x03) {
    reader.u8(); // atomic.fence
    return;
  }
  if (sub > 0x4e) throw new DecodeError(`unknown instruction 0xfe ${sub}`);
  skipMemArg(reader);
}

/** Reads one instruction at the reader's position, leaving it just past its immediates. */
export function readInstruction(reader: ByteReader): Instruction {
  const op = reader.u8();
  let sub = -1;
  switch (op) {
    case 0x02: // block
    case 0x03: // loop
    case 0x04: // if
    case 0x06: // try
      skipBlockType(reader);
      break;
    case 0x07: // catch tag
    case 0x08: // throw tag
    case 0x09: // rethrow label
    case 0x0c: // br
    case 0x0d: // br_if
    case 0x10: // call
    case 0x12: // return_call
    case 0x14: // call_ref
    case 0x15: // return_call_ref
    case 0x18: // delegate
    case 0x20: // local.get
    case 0x21: // local.set
    case 0x22: // local.tee
    case 0x23: // global.get
    case 0x24: // global.set
    case 0x25: // table.get
    case 0x26: // table.set
    case 0x3f: // memory.size
    case 0x40: // memory.grow
    case 0xd2: // ref.func
    case 0xd4: // br_on_null
    case 0xd6: // br_on_non_null
      reader.u32();
      break;
    case 0x0e: {
      // br_table: vec(label) default
      const count = reader.u32();
      for (let i = 0; i <= count; i++) reader.u32();
      break;
    }
    case 0x11: // call_indirect type table
    case 0x13: // return_call_indirect
      reader.u32();
      reader.u32();
      break;
    case 0x1c: {
      // select t*
      const count = reader.u32();
      for (let i = 0; i < count; i++) skipValType(reader);
      break;
    }
    case 0x1f: {
      // try_table blocktype vec(catch)
      skipBlockType(reader);
      const count = reader.u32();
      for (let i = 0; i < count; i++) {
        const kind = reader.u8();
        if (kind === 0x00 || kind === 0x01) reader.u32(); // tag
        reader.u32(); // label
      }
      break;
    }
    case 0x41: // i32.const
    case 0x42: // i64.const
      reader.sleb();
      break;
    case 0x43: // f32.const
      reader.skip(4);
      break;
    case 0x44: // f64.const
      reader.skip(8);
      break;
    case 0xd0: // ref.null heaptype
      reader.sleb();
      break;
    case 0xfc:
      sub = reader.u32();
      readPrefixFC(reader, sub);
      break;
    case 0xfd:
      sub = reader.u32();
      readPrefixFD(reader, sub);
      break;
    case 0xfe:
      sub = reader.u32();
      readPrefixFE(reader, sub);
      break;
    default:
      if (op >= 0x28 && op <= 0x3e) skipMemArg(reader);
      else if (!hasNoImmediates(op)) throw new DecodeError(`unknown opcode 0x${op.toString(16)}`);
  }
  return { op, sub };
}

function hasNoImmediates(op: number): boolean {
  return (
    op === 0x00 || // unreachable
    op === 0x01 || // nop
    op === 0x05 || // else
    op === 0x0a || // throw_ref
    op === 0x0b || // end
    op === 0x0f || // return
    op === 0x19 || // catch_all
    op === 0x1a || // drop
    op === 0x1b || // select
    (op >= 0x45 && op <= 0xc4) || // numeric, sign extension
    op === 0xd1 || // ref.is_null
    op === 0xd3 || // ref.as_non_null
    op === 0xd5 // ref.eq
  );
}
