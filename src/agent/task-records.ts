// The agent's records of the tasks it started, so a restarted agent finds them again (re-attaches,
// or reports them gone): one append-only file in the work directory, a line per start and per
// end, written together for every task of a burst (one write instead of a file per task: three
// thread-pool round trips and a new inode per launch, one more per end, profiled on the launch
// path), and compacted when it opens or grows to several times what it holds.
//
//   save(record) ─┐
//   forget(id)  ──┴─► queued lines ─► next turn of the event loop: one append ─► tasks.jsonl
//
// Not fsync'ed, as the files per task were not: a record matters when the agent process restarts,
// which leaves the page cache intact. A torn last line (the machine died mid-write) is dropped.
import { mkdir, open, readdir, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { LaunchCommand } from '../bus/index.js';
import type { Logger } from '../lib/index.js';
import type { TaskHandle } from '../runtime/driver.js';
import { readJsonLines } from './json-lines-file.js';

/** The records' file in the agent's work directory. */
export const TASK_RECORDS_FILE = 'tasks.jsonl';
/** COMPAT: the directory of one file per task that agents before the records file wrote; read
 * once and removed, it can go when no agent of that version runs anywhere. */
const LEGACY_DIR = 'tasks';
/** The file is rewritten with only the live records once it is this large and mostly dead. */
const COMPACT_MIN_BYTES = 1024 * 1024;

export interface TaskRecord {
  taskId: string;
  command: LaunchCommand;
  handle?: TaskHandle;
}

type Line = { s: TaskRecord } | { e: string };

export interface TaskRecords {
  /** The records an earlier process of this agent left (started, not ended), oldest first. */
  readonly recovered: TaskRecord[];
  /** Remembers a started task; written with the others of this turn. Never throws. */
  save(record: TaskRecord): void;
  /** Forgets an ended task (idempotent). Never throws. */
  forget(taskId: string): void;
  /** Writes what is queued and closes the file. Idempotent. */
  close(): Promise<void>;
}

function parseLine(text: string): Line | undefined {
  try {
    const line = JSON.parse(text) as Record<string, unknown>;
    if (typeof line.e === 'string') return { e: line.e };
    const record = line.s as TaskRecord | undefined;
    if (typeof record?.taskId === 'string' && typeof record.command === 'object')
      return { s: record };
  } catch {
    // A damaged line: dropped below.
  }
  return undefined;
}

/** Opens (and reads back, then compacts) the records in `dir`. */
export async function openTaskRecords(options: {
  dir: string;
  logger: Logger;
}): Promise<TaskRecords> {
  const { dir, logger } = options;
  const file = path.join(dir, TASK_RECORDS_FILE);
  const live = new Map<string, TaskRecord>();
  const read = await readJsonLines(file, parseLine);
  let { damaged } = read;
  for (const line of read.lines) {
    if ('e' in line) live.delete(line.e);
    else live.set(line.s.taskId, line.s);
  }
  const legacy = path.join(dir, LEGACY_DIR);
  const legacyFiles = await readdir(legacy).catch(() => []);
  for (const name of legacyFiles) {
    const parsed = parseLine(`{"s":${await readFile(path.join(legacy, name), 'utf8')}}`);
    if (parsed && 's' in parsed) live.set(parsed.s.taskId, parsed.s);
    else damaged++;
  }
  if (damaged > 0) logger.warn({ file, damaged }, 'task records: damaged lines dropped');

  let handle: FileHandle | undefined;
  let fileBytes = 0;
  let liveBytes = 0;
  const lineBytes = new Map<string, number>();
  let queued: string[] = [];
  let writing: Promise<void> | undefined;

  const lineOf = (line: Line) => `${JSON.stringify(line)}\n`;

  /** Writes the live records alone to a new file and puts it in place of the old one. */
  async function compact(): Promise<void> {
    const body = [...live.values()].map((record) => lineOf({ s: record })).join('');
    const temporary = `${file}.tmp`;
    await mkdir(dir, { recursive: true });
    const out = await open(temporary, 'w', 0o600);
    try {
      await out.writeFile(body);
    } finally {
      await out.close();
    }
    await rename(temporary, file);
    await handle?.close();
    handle = await open(file, 'a', 0o600);
    fileBytes = Buffer.byteLength(body);
  }

  async function writeQueued(): Promise<void> {
    // The rest of this turn queues its lines too: a burst of launches is one write.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (queued.length > 0 && handle) {
      const batch = queued.join('');
      queued = [];
      try {
        await handle.write(batch);
        fileBytes += Buffer.byteLength(batch);
        if (fileBytes > COMPACT_MIN_BYTES && fileBytes > 4 * liveBytes) await compact();
      } catch (error) {
        // A full or failing disk: the tasks run on; only a restart would not find them.
        logger.error({ err: error, file }, 'task records: could not write');
      }
    }
  }

  function queue(line: string): void {
    if (!handle) return;
    queued.push(line);
    startWriter();
  }

  function startWriter(): void {
    writing ??= writeQueued().finally(() => {
      writing = undefined;
      // Lines queued as the writer ended: another round.
      if (queued.length > 0 && handle) startWriter();
    });
  }

  const recovered = [...live.values()];
  await compact();
  for (const record of recovered) {
    const bytes = Buffer.byteLength(lineOf({ s: record }));
    lineBytes.set(record.taskId, bytes);
    liveBytes += bytes;
  }
  if (legacyFiles.length > 0) await rm(legacy, { recursive: true, force: true });

  return {
    recovered,
    save(record) {
      const line = lineOf({ s: record });
      const bytes = Buffer.byteLength(line);
      liveBytes += bytes - (lineBytes.get(record.taskId) ?? 0);
      lineBytes.set(record.taskId, bytes);
      live.set(record.taskId, record);
      queue(line);
    },
    forget(taskId) {
      if (!live.delete(taskId)) return;
      liveBytes -= lineBytes.get(taskId) ?? 0;
      lineBytes.delete(taskId);
      queue(lineOf({ e: taskId }));
    },
    async close() {
      while (writing) await writing;
      await handle?.close();
      handle = undefined;
    },
  };
}
