// Cuts a byte stream (a task's stdout or stderr) into text lines of bounded length.

export interface LineSplitter {
  /** Adds bytes; returns the lines they complete. */
  push(bytes: Uint8Array): string[];
  /** Returns the unfinished last line, if any (at exit). */
  flush(): string[];
}

/**
 * Lines longer than `maxLineBytes` are cut into pieces of that many bytes (as the Wasm driver
 * does), so a task that never writes a newline cannot grow the agent's memory.
 */
export function createLineSplitter(options: { maxLineBytes: number }): LineSplitter {
  const max = Math.max(1, options.maxLineBytes);
  let pending: Buffer = Buffer.alloc(0);
  const decode = (bytes: Buffer): string => bytes.toString('utf8').replace(/\r$/, '');
  return {
    push(bytes) {
      const lines: string[] = [];
      let data = pending.length === 0 ? Buffer.from(bytes) : Buffer.concat([pending, bytes]);
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
      pending = Buffer.from(data);
      return lines;
    },
    flush() {
      if (pending.length === 0) return [];
      const line = decode(pending);
      pending = Buffer.alloc(0);
      return [line];
    },
  };
}
