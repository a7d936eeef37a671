// Follows a growing file (a task's stdout, a container's log) from an offset and hands each
// new chunk on: inotify wakes it at once, a slow poll covers what inotify misses.
import { watch, type FSWatcher } from 'node:fs';
import { open } from 'node:fs/promises';

export interface FileFollower {
  /** Bytes consumed so far (where a later follower could resume). */
  readonly offset: number;
  /** Reads to the current end, hands it on, and stops following. Idempotent. */
  finish(): Promise<void>;
  /** Stops following without reading further. */
  close(): void;
}

export interface FileFollowerOptions {
  file: string;
  /** Where to start: 0 for a new task, the current size for a recovered one. */
  offset: number;
  onData: (bytes: Buffer) => void;
  pollIntervalMs: number;
  /** A read failed for a reason other than the file not existing yet. */
  onError: (error: unknown) => void;
}

const CHUNK_BYTES = 64 * 1024;

export function createFileFollower(options: FileFollowerOptions): FileFollower {
  let offset = options.offset;
  let reading: Promise<void> | undefined;
  let isDirty = false;
  let isClosed = false;
  let watcher: FSWatcher | undefined;

  const readNew = async (): Promise<void> => {
    let handle;
    try {
      handle = await open(options.file, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    try {
      // A task may truncate its own log file; start over rather than wait for it to regrow.
      if ((await handle.stat()).size < offset) offset = 0;
      const buffer = Buffer.alloc(CHUNK_BYTES);
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, offset);
        if (bytesRead === 0) break;
        offset += bytesRead;
        options.onData(Buffer.from(buffer.subarray(0, bytesRead)));
      }
    } finally {
      await handle.close();
    }
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

  const close = () => {
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
      close();
      await reading;
      await readNew();
    },
    close,
  };
}
