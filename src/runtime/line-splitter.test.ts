import { describe, expect, it } from 'vitest';
import { createLineSplitter, droppedLinesMarker } from './line-splitter.js';

const bytesOf = (text: string) => new TextEncoder().encode(text);

describe('createLineSplitter', () => {
  it('returns complete lines and keeps the unfinished one for the next push', () => {
    const splitter = createLineSplitter({ maxLineBytes: 100 });
    expect(splitter.push(bytesOf('one\r\ntw'))).toEqual(['one']);
    expect(splitter.push(bytesOf('o\nthr'))).toEqual(['two']);
    expect(splitter.flush()).toEqual(['thr']);
    expect(splitter.flush()).toEqual([]);
  });

  it('cuts a long line into pieces the same way whether it arrives at once or byte by byte', () => {
    const text = `${'a'.repeat(25)}\n${'b'.repeat(10)}\n\n${'c'.repeat(7)}`;
    const whole = createLineSplitter({ maxLineBytes: 10 });
    const expected = [...whole.push(bytesOf(text)), ...whole.flush()];
    expect(expected).toEqual([
      'a'.repeat(10),
      'a'.repeat(10),
      'aaaaa',
      'b'.repeat(10),
      '',
      'ccccccc',
    ]);
    const tiny = createLineSplitter({ maxLineBytes: 10 });
    const lines = [...bytesOf(text)].flatMap((b) => tiny.push(Uint8Array.of(b)));
    expect([...lines, ...tiny.flush()]).toEqual(expected);
  });

  it('returns one marker instead of millions of lines from one push of newlines', () => {
    const splitter = createLineSplitter({ maxLineBytes: 4096, maxLinesPerPush: 1000 });
    const lines = splitter.push(new Uint8Array(4_000_000).fill(0x0a));
    expect(lines).toHaveLength(1001);
    expect(lines.at(-1)).toBe(droppedLinesMarker(3_999_000));
    // The splitter is still in step: the next line is whole.
    expect(splitter.push(bytesOf('next\n'))).toEqual(['next']);
  });

  it('returns at most maxBytesPerPush of a 100 MB line and counts the pieces it dropped', () => {
    const splitter = createLineSplitter({ maxLineBytes: 4096, maxBytesPerPush: 1024 * 1024 });
    const line = new Uint8Array(100 * 1024 * 1024).fill(0x61);
    const lines = splitter.push(line);
    const pieces = lines.slice(0, -1);
    expect(pieces.reduce((n, l) => n + l.length, 0)).toBeLessThanOrEqual(1024 * 1024);
    expect(pieces.every((l) => l.length === 4096)).toBe(true);
    // The last 4096 bytes wait for a newline that may yet come; only what is known cut counts.
    expect(lines.at(-1)).toBe(droppedLinesMarker(25_599 - pieces.length));
    expect(splitter.flush()[0]).toHaveLength(4096);
  });

  it('keeps a long unfinished line within maxLineBytes across a million one-byte pushes', () => {
    const splitter = createLineSplitter({ maxLineBytes: 64 * 1024 });
    const one = Uint8Array.of(0x78);
    let count = 0;
    for (let i = 0; i < 1_000_000; i++) count += splitter.push(one).length;
    expect(count).toBe(Math.floor(1_000_000 / (64 * 1024)));
    expect(splitter.flush()[0]).toHaveLength(1_000_000 % (64 * 1024));
  });

  it('counts over the cap exactly the lines it would have returned, whatever the chunking', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    // Newlines right at and around where the counting switches to a native search (32 bytes in).
    const edges = [31, 32, 33, 64].map((n) => bytesOf(`x\n${'a'.repeat(n)}\n${'b'.repeat(n)}\nc`));
    for (let round = 0; round < 300 + edges.length; round++) {
      const chunks = edges[round - 300]
        ? [edges[round - 300] as Uint8Array]
        : Array.from({ length: 1 + Math.floor(random() * 6) }, () =>
            Uint8Array.from({ length: Math.floor(random() * 100) }, () =>
              random() < (round % 2 ? 0.2 : 0.01) ? 0x0a : 0x61,
            ),
          );
      const maxLineBytes = round >= 300 ? 100 : 5;
      const whole = createLineSplitter({ maxLineBytes, maxLinesPerPush: 1_000 });
      const capped = createLineSplitter({ maxLineBytes, maxLinesPerPush: round >= 300 ? 1 : 2 });
      for (const chunk of chunks) {
        const expected = whole.push(chunk);
        const lines = capped.push(chunk);
        const marker = /^\[pacer: (\d+) lines dropped\]$/.exec(lines.at(-1) ?? '');
        const kept = marker ? lines.slice(0, -1) : lines;
        expect(kept).toEqual(expected.slice(0, kept.length));
        expect(kept.length + Number(marker?.[1] ?? 0)).toBe(expected.length);
      }
      expect(capped.flush()).toEqual(whole.flush());
    }
  });
});
