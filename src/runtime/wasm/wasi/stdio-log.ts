// stdout and stderr of a task: cut into bounded lines and handed to the driver's log callback.
import { createLineSplitter } from '../../line-splitter.js';

/**
 * Bytes one fd_write to stdout or stderr takes; the rest is a short write the guest's libc
 * retries. It bounds the lines (and their strings) one call can make the host allocate.
 */
export const MAX_STDIO_WRITE_BYTES = 64 * 1024;

/** The task's two output streams. */
export interface StdioLog {
  /** Takes up to `MAX_STDIO_WRITE_BYTES` of `chunks`; returns the bytes taken. */
  write(stream: 'stdout' | 'stderr', chunks: Uint8Array[]): number;
  /** Emits the unfinished last lines. */
  flush(): void;
}

export function createStdioLog(options: {
  maxLogLineBytes: number;
  onLog: (stream: 'stdout' | 'stderr', lines: string[]) => void;
}): StdioLog {
  const splitters = {
    stdout: createLineSplitter({ maxLineBytes: options.maxLogLineBytes }),
    stderr: createLineSplitter({ maxLineBytes: options.maxLogLineBytes }),
  };
  return {
    write(stream, chunks) {
      const lines: string[] = [];
      let taken = 0;
      for (const chunk of chunks) {
        const part = chunk.subarray(0, MAX_STDIO_WRITE_BYTES - taken);
        lines.push(...splitters[stream].push(part));
        taken += part.length;
        if (taken >= MAX_STDIO_WRITE_BYTES) break;
      }
      if (lines.length > 0) options.onLog(stream, lines);
      return taken;
    },
    flush() {
      for (const stream of ['stdout', 'stderr'] as const) {
        const lines = splitters[stream].flush();
        if (lines.length > 0) options.onLog(stream, lines);
      }
    },
  };
}
