// Follows a growing file (a task's stdout, a container's log) from an offset and hands each
// new chunk on: inotify wakes it at once, a slow poll covers what inotify misses. The file is
// opened once (never through a symlink) and read through that handle from then on, so a task
// that swaps the path for a link to another file changes nothing the agent reads.
import { watch, type FSWatcher } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { openForReading, UnsafeFileError } from './task-files.js';

export interface FileFollower {
  /** Bytes consumed so far (where a later follower could resume). */
  readonly offset: number;
  /** Reads to the current end, hands it on, and stops following. Idempotent. */
  finish(): Promise<void>;
  /** Stops following without reading further. */
  close(): void;
}

export interface FileFollowerOptions {
  /** Watched for changes (inotify), and opened with `openForReading` unless `open` is given. */
  file: string;
  /**
   * Opens the file to follow: undefined while it does not exist yet. Called until it returns a
   * handle, which is then kept. Default: `openForReading(file)` (no symlinks, one link).
   */
  open?: () => Promise<FileHandle | undefined>;
  /** Where to start: 0 for a new task, the current size for a recovered one. */
  offset: number;
  onData: (bytes: Buffer) => void;
  pollIntervalMs: number;
  /**
   * A read failed for a reason other than the file not existing yet. After an `UnsafeFileError`
   * (the path is not the file it should be) the follower stops.
   */
  onError: (error: unknown) => void;
}

const CHUNK_BYTES = 64 * 1024;

export function createFileFollower(options: FileFollowerOptions): FileFollower {
  let offset = options.offset;
  let reading: Promise<void> | undefined;
  let isDirty = false;
  let isClosed = false;
  let watcher: FSWatcher | undefined;
  let handle: FileHandle | undefined;
  let isRefused = false;
  const openFile = options.open ?? (() => openForReading(options.file));

  const readNew = async (): Promise<void> => {
    if (isRefused) return;
    try {
      handle ??= await openFile();
    } catch (error) {
      if (error instanceof UnsafeFileError) isRefused = true;
      throw error;
    }
    if (!handle) return;
    // A task may truncate its own log file; start over rather than wait for it to regrow.
    if ((await handle.stat()).size < offset) offset = 0;
    const buffer = Buffer.alloc(CHUNK_BYTES);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
      options.onData(Buffer.from(buffer.subarray(0, bytesRead)));
    }
  };
  const release = () => {
    const held = handle;
    handle = undefined;
    isRefused = true;
    held?.close().catch(options.onError);
  };

  // One read at a time; a wake-up during a read schedules exactly one more.
  const poll = (): Promise<void> => {
    if (reading) {
      isDirty = true;
      return reading;
    }
    reading = (async () => {
      do {
        isDirty = false;
        await readNew();
      } while (isDirty);
    })().finally(() => {
      reading = undefined;
    });
    return reading;
  };
  const wake = () => {
    if (!isClosed) poll().catch(options.onError);
  };

  try {
    watcher = watch(options.file, { persistent: false }, wake);
    watcher.on('error', () => watcher?.close());
  } catch {
    watcher = undefined; // not there yet: the poll finds it
  }
  const timer = setInterval(wake, options.pollIntervalMs);
  timer.unref();
  wake();

  const stop = () => {
    isClosed = true;
    clearInterval(timer);
    watcher?.close();
  };
  return {
    get offset() {
      return offset;
    },
    async finish() {
      if (isClosed) return reading;
      stop();
      await reading;
      try {
        await readNew();
      } finally {
        release();
      }
    },
    close() {
      stop();
      // A read in flight still uses the handle: close it once that read is over.
      if (reading) void reading.catch(() => undefined).finally(release);
      else release();
    },
  };
}
