// A cursor over a Wasm binary: bytes, LEB128 integers and names, failing loudly past the end.

/** Thrown when the bytes do not decode; the driver turns it into INVALID_MODULE. */
export class DecodeError extends Error {
  override name = 'DecodeError';
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class ByteReader {
  /** Current offset into `bytes`. */
  pos: number;

  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    /** Offset one past the last readable byte. */
    readonly end = bytes.length,
  ) {
    this.pos = start;
  }

  /** True once every byte up to `end` has been read. */
  get isAtEnd(): boolean {
    return this.pos >= this.end;
  }

  u8(): number {
    if (this.pos >= this.end) throw new DecodeError(`unexpected end at byte ${this.pos}`);
    return this.bytes[this.pos++] as number;
  }

  /** Unsigned LEB128 of up to 32 bits. */
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = this.u8();
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) break;
      shift += 7;
      if (shift > 28) throw new DecodeError(`u32 too long at byte ${this.pos}`);
    }
    if (result > 0xffffffff) throw new DecodeError(`u32 out of range at byte ${this.pos}`);
    return result;
  }

  /** Signed LEB128 (any width up to 64 bits) as a bigint. */
  sleb(): bigint {
    let result = 0n;
    let shift = 0n;
    let byte: number;
    do {
      byte = this.u8();
      result |= BigInt(byte & 0x7f) << shift;
      shift += 7n;
      if (shift > 70n) throw new DecodeError(`signed LEB too long at byte ${this.pos}`);
    } while (byte & 0x80);
    if (byte & 0x40) result -= 1n << shift;
    return result;
  }

  /** Skips a LEB128 integer of any width. */
  skipLeb(): void {
    let n = 0;
    while (this.u8() & 0x80) {
      if (++n > 10) throw new DecodeError(`LEB too long at byte ${this.pos}`);
    }
  }

  skip(count: number): void {
    if (this.pos + count > this.end) throw new DecodeError(`unexpected end at byte ${this.pos}`);
    this.pos += count;
  }

  /** A length-prefixed UTF-8 name; malformed UTF-8 is a `DecodeError` like any other bad byte. */
  name(): string {
    const length = this.u32();
    const start = this.pos;
    this.skip(length);
    try {
      return utf8.decode(this.bytes.subarray(start, this.pos));
    } catch {
      throw new DecodeError(`name at byte ${start} is not valid UTF-8`);
    }
  }
}

/** Unsigned LEB128 encoding. */
export function encodeU32(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 encoding of a 64-bit integer. */
export function encodeS64(value: bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asIntN(64, value);
  for (;;) {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    const isDone = (v === 0n && (byte & 0x40) === 0) || (v === -1n && (byte & 0x40) !== 0);
    out.push(isDone ? byte : byte | 0x80);
    if (isDone) return out;
  }
}
