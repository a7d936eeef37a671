// The byte reader refuses malformed input with DecodeError only (found by the loader fuzz:
// an import name of invalid UTF-8 escaped as a TypeError).
import { describe, expect, it } from 'vitest';
import { ByteReader, DecodeError } from './byte-reader.js';
import { parseModule } from './parse-module.js';

describe('byte reader', () => {
  it('refuses a name of invalid UTF-8 with a DecodeError', () => {
    const reader = new ByteReader(Uint8Array.from([2, 0xc3, 0x28]));
    expect(() => reader.name()).toThrow(DecodeError);
  });

  it('makes parseModule refuse an import named in invalid UTF-8 with a DecodeError', () => {
    // (import "\ff" "x" (func (type 0))) after one type () -> ()
    const bytes = Uint8Array.from([
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x02,
      0x07, 0x01, 0x01, 0xff, 0x01, 0x78, 0x00, 0x00,
    ]);
    expect(() => parseModule(bytes)).toThrow(DecodeError);
  });

  it('refuses a u32 encoded in more than five bytes or past 32 bits', () => {
    expect(() =>
      new ByteReader(Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x00])).u32(),
    ).toThrow(DecodeError);
    expect(() => new ByteReader(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x7f])).u32()).toThrow(
      DecodeError,
    );
    expect(new ByteReader(Uint8Array.from([0x85, 0x80, 0x80, 0x80, 0x00])).u32()).toBe(5);
  });
});
