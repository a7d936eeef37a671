// Cuts a byte stream (a task's stdout or stderr) into text lines of bounded length; shared by
// every driver so all task kinds log alike.

export interface LineSplitter {
  /** Adds bytes; returns the lines they complete. */
  push(bytes: Uint8Array): string[];
  /** Returns the unfinished last line, if any (at exit). */
  flush(): string[];
}

/** Stateless use (no `stream` option), so one serves every splitter: a decoder costs per task. */
const decoder = new TextDecoder('utf-8');

/**
 * Lines longer than `maxLineBytes` are cut into pieces of that many bytes, so a task that never
 * writes a newline cannot grow the agent's memory.
 */
export function createLineSplitter(options: { maxLineBytes: number }): LineSplitter {
  const max = Math.max(1, options.maxLineBytes);
  let pending = new Uint8Array(0);
  const decode = (bytes: Uint8Array): string => decoder.decode(bytes).replace(/\r$/, '');
  return {
    push(bytes) {
      const lines: string[] = [];
      let data = pending.length === 0 ? bytes : concat(pending, bytes);
      for (;;) {
        const newline = data.indexOf(0x0a);
        if (newline >= 0 && newline <= max) {
          lines.push(decode(data.subarray(0, newline)));
          data = data.subarray(newline + 1);
        } else if (data.length > max) {
          lines.push(decode(data.subarray(0, max)));
          data = data.subarray(max);
        } else {
          break;
        }
      }
      pending = data.slice();
      return lines;
    },
    flush() {
      if (pending.length === 0) return [];
      const line = decode(pending);
      pending = new Uint8Array(0);
      return [line];
    },
  };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
