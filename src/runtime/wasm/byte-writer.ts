// A growable byte buffer for the rewriter's output: one Uint8Array doubled as needed, so a 16 MiB
// module costs a few typed arrays outside the JS heap instead of millions of boxed array slots.

export class ByteWriter {
  private buffer: Uint8Array;
  length = 0;

  constructor(initialBytes = 1024) {
    this.buffer = new Uint8Array(Math.max(16, initialBytes));
  }

  private reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < needed) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }

  /** Appends single bytes. */
  push(...bytes: number[]): this {
    this.reserve(bytes.length);
    for (const byte of bytes) this.buffer[this.length++] = byte;
    return this;
  }

  /** Appends a run of bytes (any length: no spread into arguments). */
  append(bytes: ArrayLike<number>): this {
    this.reserve(bytes.length);
    if (bytes instanceof Uint8Array) {
      this.buffer.set(bytes, this.length);
      this.length += bytes.length;
    } else {
      for (let i = 0; i < bytes.length; i++) this.buffer[this.length++] = bytes[i] as number;
    }
    return this;
  }

  /** The bytes written so far (a view: valid until the next write). */
  view(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }

  /** A copy of the bytes written so far, sized exactly. */
  toBytes(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }

  /** Forgets the content, keeping the allocation for reuse. */
  reset(): void {
    this.length = 0;
  }
}
