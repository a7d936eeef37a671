// One task's log lines on their way to the bus: cut to a maximum length, rate-limited by token
// buckets (lines/s and bytes/s, with a burst), and published in batches, one bus call at a time.
import type { LogMessage, LogMessageLine } from '../bus/index.js';
import type { Clock } from '../lib/index.js';
import { droppedLinesMarker } from '../runtime/line-splitter.js';

export interface LogLimits {
  /** Lines longer than this (UTF-8 bytes) are cut to it. */
  maxLineBytes: number;
  /** Sustained rate; lines beyond it are dropped and counted. */
  linesPerSecond: number;
  /** Lines a quiet task may write at once before the rate applies. */
  lineBurst: number;
  bytesPerSecond: number;
  byteBurst: number;
  /** Lines and bytes one bus entry holds at most. */
  maxBatchLines: number;
  maxBatchBytes: number;
  /** How long the first line of a batch waits for others before the batch is published. */
  flushMs: number;
  /** Lines the task's stream keeps on the bus (older entries are trimmed). */
  keepLines: number;
}

export const defaultLogLimits: LogLimits = {
  maxLineBytes: 16 * 1024,
  linesPerSecond: 1_000,
  lineBurst: 10_000,
  bytesPerSecond: 1024 * 1024,
  byteBurst: 4 * 1024 * 1024,
  maxBatchLines: 1_000,
  maxBatchBytes: 512 * 1024,
  flushMs: 100,
  keepLines: 10_000,
};

export interface LogPacer {
  /** Takes one line the driver produced; never blocks, never throws. */
  line(stream: LogMessageLine['stream'], line: string): void;
  /** Publishes what waits (at the task's end); resolves once it is on the bus. Idempotent. */
  flush(): Promise<void>;
}

export interface LogPacerOptions {
  clock: Clock;
  limits: LogLimits;
  /** Appends one batch to the task's stream, trimmed to about `maxLen` entries; never rejects. */
  publish: (message: LogMessage, maxLen: number) => Promise<void>;
  /** Told how many lines (and bytes of them) were just dropped (the agent's metrics). */
  onDropped: (count: number, bytes: number) => void;
}

/** A token bucket: `rate` tokens a second, at most `burst` saved up. */
function createBucket(options: { rate: number; burst: number; now: number }) {
  let tokens = options.burst;
  let at = options.now;
  return {
    take(count: number, now: number): boolean {
      tokens = Math.min(options.burst, tokens + ((now - at) / 1000) * options.rate);
      at = now;
      if (tokens < count) return false;
      tokens -= count;
      return true;
    },
  };
}

/**
 * How many of the newest entries hold about `keepLines` lines: the stream is trimmed by entries,
 * and an entry holds from one line (a quiet task) to a full batch (a busy one).
 */
function createRetention(keepLines: number) {
  const counts: number[] = [];
  let head = 0;
  let lines = 0;
  return (added: number): number => {
    counts.push(added);
    lines += added;
    while (lines - (counts[head] as number) >= keepLines) lines -= counts[head++] as number;
    if (head > 1024) {
      counts.splice(0, head);
      head = 0;
    }
    return counts.length - head;
  };
}

const encoder = new TextEncoder();

/** Cuts `line` to at most `maxBytes` UTF-8 bytes (a character cut in half is left out). */
function cut(line: string, maxBytes: number): { line: string; bytes: number } {
  // UTF-16 length ≤ UTF-8 length ≤ 3 × UTF-16 length: most lines need no encoding to decide.
  if (line.length * 3 <= maxBytes) return { line, bytes: line.length };
  const bytes = encoder.encode(line);
  if (bytes.length <= maxBytes) return { line, bytes: bytes.length };
  const kept = new TextDecoder().decode(bytes.subarray(0, maxBytes)).replace(/\uFFFD$/, '');
  return { line: kept, bytes: maxBytes };
}

export function createLogPacer(options: LogPacerOptions): LogPacer {
  const { clock, limits } = options;
  const now = clock.now();
  const lineBucket = createBucket({ rate: limits.linesPerSecond, burst: limits.lineBurst, now });
  const byteBucket = createBucket({ rate: limits.bytesPerSecond, burst: limits.byteBurst, now });
  const retain = createRetention(limits.keepLines);
  let batch: LogMessageLine[] = [];
  let batchBytes = 0;
  let batchAt = 0;
  const dropped = { stdout: 0, stderr: 0 };
  let timer: NodeJS.Timeout | undefined;
  /** The publish on its way: one at a time per task, so a slow bus holds one batch, not many. */
  let inFlight: Promise<void> | undefined;

  function drop(stream: LogMessageLine['stream'], bytes: number): void {
    dropped[stream]++;
    options.onDropped(1, bytes);
    schedule();
  }

  function schedule(): void {
    if (timer || inFlight) return;
    timer = setTimeout(() => {
      timer = undefined;
      void send();
    }, limits.flushMs);
  }

  /** Publishes the batch (and markers for what was dropped since the last one). */
  function send(): Promise<void> {
    if (inFlight) return inFlight;
    clearTimeout(timer);
    timer = undefined;
    if (batch.length === 0) batchAt = clock.now();
    for (const stream of ['stdout', 'stderr'] as const) {
      if (dropped[stream] === 0) continue;
      batch.push({ stream, line: droppedLinesMarker(dropped[stream]) });
      dropped[stream] = 0;
    }
    if (batch.length === 0) return Promise.resolve();
    const message: LogMessage = { at: batchAt, lines: batch };
    batch = [];
    batchBytes = 0;
    inFlight = options.publish(message, retain(message.lines.length)).finally(() => {
      inFlight = undefined;
      // What arrived meanwhile goes in the next batch.
      if (batch.length > 0 || dropped.stdout + dropped.stderr > 0) schedule();
    });
    return inFlight;
  }

  return {
    line(stream, text) {
      const { line, bytes } = cut(text, limits.maxLineBytes);
      const isFull =
        batch.length >= limits.maxBatchLines || batchBytes + bytes > limits.maxBatchBytes;
      if (isFull && inFlight) return drop(stream, bytes);
      if (isFull) void send();
      const at = clock.now();
      // Both buckets are asked; a line refused by the second still spent a line token, which
      // only makes a flood of long lines slower to recover: acceptable, and simpler than undoing.
      if (!lineBucket.take(1, at) || !byteBucket.take(bytes, at)) return drop(stream, bytes);
      if (batch.length === 0) batchAt = at;
      batch.push({ stream, line });
      batchBytes += bytes;
      schedule();
    },
    async flush() {
      await inFlight;
      await send();
    },
  };
}
