// stdout and stderr of a task: cut into bounded lines and handed to the driver's log callback.
import { createLineSplitter } from '../../line-splitter.js';
import { Errno, WasiError } from '../wasi-errno.js';

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
  /** Copies the next stdin bytes into `chunks` (handler mode: the request body); 0 at the end. */
  readStdin(chunks: Uint8Array[]): number;
  /** Handler mode: the stdout bytes captured, in order. */
  captured(): Uint8Array;
}

export function createStdioLog(options: {
  maxLogLineBytes: number;
  onLog: (stream: 'stdout' | 'stderr', lines: string[]) => void;
  /** What stdin holds (empty by default). */
  stdin?: Uint8Array;
  /** Handler mode: stdout is kept (at most this many bytes; a write past it is EFBIG). */
  captureStdoutBytes?: number;
}): StdioLog {
  const stdin = options.stdin ?? new Uint8Array(0);
  let stdinAt = 0;
  const captured: Uint8Array[] = [];
  let capturedBytes = 0;
  const splitters = {
    stdout: createLineSplitter({ maxLineBytes: options.maxLogLineBytes }),
    stderr: createLineSplitter({ maxLineBytes: options.maxLogLineBytes }),
  };
  return {
    write(stream, chunks) {
      const cap = options.captureStdoutBytes;
      if (stream === 'stdout' && cap !== undefined) {
        let taken = 0;
        for (const chunk of chunks) {
          if (capturedBytes + chunk.length > cap) throw new WasiError(Errno.FBIG);
          captured.push(chunk.slice());
          capturedBytes += chunk.length;
          taken += chunk.length;
        }
        return taken;
      }
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
    readStdin(chunks) {
      let read = 0;
      for (const chunk of chunks) {
        const n = Math.min(chunk.length, stdin.length - stdinAt);
        chunk.set(stdin.subarray(stdinAt, stdinAt + n));
        stdinAt += n;
        read += n;
        if (n < chunk.length) break;
      }
      return read;
    },
    captured() {
      const out = new Uint8Array(capturedBytes);
      let at = 0;
      for (const chunk of captured) {
        out.set(chunk, at);
        at += chunk.length;
      }
      return out;
    },
    flush() {
      for (const stream of ['stdout', 'stderr'] as const) {
        const lines = splitters[stream].flush();
        if (lines.length > 0) options.onLog(stream, lines);
      }
    },
  };
}
