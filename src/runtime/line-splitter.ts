// Cuts a byte stream (a task's stdout or stderr) into text lines of bounded length; shared by
// every driver so all task kinds log alike. Linear in the bytes pushed, whatever their shape.

export interface LineSplitter {
  /**
   * Adds bytes; returns the lines they complete, at most `maxLinesPerPush` of them (plus one
   * `[pacer: N lines dropped]` marker when more were completed: those are counted, not decoded).
   */
  push(bytes: Uint8Array): string[];
  /** Returns the unfinished last line, if any (at exit). */
  flush(): string[];
}

export interface LineSplitterOptions {
  /** Lines longer than this are cut into pieces of this many bytes. */
  maxLineBytes: number;
  /**
   * Lines one `push` returns at most, so one write of millions of newlines never becomes
   * millions of strings (and one message of them from a worker thread). Default 10 000.
   */
  maxLinesPerPush?: number;
  /** Bytes of line text one `push` returns at most (a 100 MB line is 100 MB of pieces). Default 1 MiB. */
  maxBytesPerPush?: number;
}

/** Stateless use (no `stream` option), so one serves every splitter: a decoder costs per task. */
const decoder = new TextDecoder('utf-8');

/** The line that stands for lines a splitter or the agent dropped (same words in both). */
export function droppedLinesMarker(count: number): string {
  return `[pacer: ${count} lines dropped]`;
}

/**
 * Lines longer than `maxLineBytes` are cut into pieces of that many bytes, so a task that never
 * writes a newline cannot grow the agent's memory. Every byte is scanned once and copied at most
 * once (the unfinished line waits in a buffer of `maxLineBytes`), so a long line arriving in
 * tiny writes costs no more than arriving at once.
 */
export function createLineSplitter(options: LineSplitterOptions): LineSplitter {
  const max = Math.max(1, options.maxLineBytes);
  const maxLines = Math.max(1, options.maxLinesPerPush ?? 10_000);
  const maxBytes = Math.max(max, options.maxBytesPerPush ?? 1024 * 1024);
  /** The unfinished line: `pending[0..pendingLength)`, never longer than `max`. */
  let pending: Uint8Array | undefined;
  let pendingLength = 0;
  const decode = (bytes: Uint8Array): string => decoder.decode(bytes).replace(/\r$/, '');

  return {
    push(bytes) {
      const lines: string[] = [];
      let bytesOut = 0;
      let dropped = 0;
      /** Ends the line `pending + bytes[from..to)`; counted instead of decoded once over a cap. */
      const emit = (from: number, to: number): void => {
        const length = pendingLength + (to - from);
        if (lines.length >= maxLines || bytesOut + length > maxBytes) {
          dropped++;
        } else if (pendingLength === 0) {
          lines.push(decode(bytes.subarray(from, to)));
          bytesOut += length;
        } else {
          const buffer = pending as Uint8Array;
          buffer.set(bytes.subarray(from, to), pendingLength);
          lines.push(decode(buffer.subarray(0, length)));
          bytesOut += length;
        }
        pendingLength = 0;
      };
      /**
       * Over a cap the rest of this push is only counted, cutting pieces as the loop below
       * would, with no call per line (a search per line cost ~300 ns for each of 4 M newlines):
       * short lines are scanned in place, long stretches with one native search. The unfinished
       * tail is kept as usual.
       */
      const countRest = (from: number): number => {
        let run = pendingLength;
        let i = from;
        while (i < bytes.length) {
          let newline = -1;
          const near = Math.min(bytes.length, i + 32);
          for (let j = i; j < near; j++) {
            if (bytes[j] === 0x0a) {
              newline = j;
              break;
            }
          }
          if (newline < 0 && near < bytes.length) newline = bytes.indexOf(0x0a, near);
          // `total` bytes without a newline: a piece is cut each time `max` of them are followed
          // by one more.
          const total = run + ((newline < 0 ? bytes.length : newline) - i);
          const cuts = total > max ? Math.floor((total - 1) / max) : 0;
          dropped += cuts;
          run = total - cuts * max;
          if (newline < 0) break;
          dropped++;
          run = 0;
          i = newline + 1;
        }
        const rest = bytes.length - from;
        pending ??= new Uint8Array(max);
        if (run <= rest) pending.set(bytes.subarray(bytes.length - run), 0);
        else pending.set(bytes.subarray(from), pendingLength);
        pendingLength = run;
        return bytes.length;
      };
      let at = 0;
      // Where the next newline is (-1: none in the rest). Found once and reused by every piece of
      // a long line: searching the rest again for each piece was the quadratic cost.
      let newline = bytes.indexOf(0x0a);
      while (at < bytes.length) {
        if (dropped > 0) {
          at = countRest(at);
          break;
        }
        const room = max - pendingLength;
        if (newline >= 0 && newline < at) newline = bytes.indexOf(0x0a, at);
        if (newline >= 0 && newline - at <= room) {
          emit(at, newline);
          at = newline + 1;
        } else if (bytes.length - at > room) {
          emit(at, at + room);
          at += room;
        } else {
          pending ??= new Uint8Array(max);
          pending.set(bytes.subarray(at), pendingLength);
          pendingLength += bytes.length - at;
          at = bytes.length;
        }
      }
      if (dropped > 0) lines.push(droppedLinesMarker(dropped));
      return lines;
    },
    flush() {
      if (pendingLength === 0 || !pending) return [];
      const line = decode(pending.subarray(0, pendingLength));
      pendingLength = 0;
      return [line];
    },
  };
}
