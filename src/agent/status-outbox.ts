// The agent's on-disk outbox: every status update (and, while the link is down, its tasks' log
// batches) is appended to a file in the work directory and kept until the master acknowledges it
// (logs: until Redis takes them), then replayed in order after a disconnect of any length, a
// Redis that lost them, or a restart of the agent. Mesos' status update manager, on one file.
//
//   status() ─► pending (memory, in order) ─► file (append, fdatasync per write batch)
//                   │ link up: publish at once          ▲ ack(seq) from the master: forgotten
//                   │ a publish fails ─► down ─► replay every retryMs, oldest first ─► up
//                   │ resend (the master saw a gap) ─► replay, oldest first (one at a time: a
//                   │   request during a replay makes it start over from the oldest)
//                   └ no ack for ackTimeoutMs (doubling to 60 s) ─► the newest again (a probe):
//                       the master re-acknowledges it, or sees a gap (Redis lost some) and asks
//                       for a resend
//
// Each status carries `prev`, the update sent before it (or the last acknowledged), so the master
// applies it only in order and once (master/status-fence.ts): duplicates from a replay are
// ignored, and one that overtook a lost predecessor waits for the replay.
//
// The file is written only by this agent, so it is trusted in shape but not in completeness: a
// torn last line (the agent or its machine died mid-write) and unreadable lines are dropped.
import { mkdir, open, rename, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Bus, LogMessage, StatusMessage } from '../bus/index.js';
import { topics } from '../bus/index.js';
import type { MesosTaskState } from '../domain/index.js';
import { fromMesosState, isTerminal } from '../domain/index.js';
import type { Clock, Logger } from '../lib/index.js';
import { readJsonLines } from './json-lines-file.js';

/** The outbox's file in the agent's work directory. */
export const OUTBOX_FILE = 'outbox.jsonl';

export interface OutboxLimits {
  /**
   * Bytes of pending records kept. Past it the oldest log batches go first, then status updates
   * that a later one of the same task supersedes, then other non-final ones; final statuses
   * (a task's end) are never dropped.
   */
  maxBytes: number;
  /**
   * No acknowledgement this long: the newest status is sent again (doubling), for the master to
   * acknowledge what it has or ask for the rest.
   */
  ackTimeoutMs: number;
  /** While the link is down, how often a replay is tried. */
  retryMs: number;
}

export const defaultOutboxLimits: OutboxLimits = {
  maxBytes: 8 * 1024 * 1024,
  ackTimeoutMs: 10_000,
  retryMs: 1_000,
};

/** The longest wait for an acknowledgement before sending again. */
const MAX_ACK_TIMEOUT_MS = 60_000;
/** Publishes in flight at once during a replay. */
const REPLAY_WINDOW = 64;
/** The file is rewritten (only pending records) when it is this much larger than they are. */
const COMPACT_MIN_BYTES = 1024 * 1024;

type StatusUpdate = Omit<StatusMessage, 'seq' | 'prev' | 'acked'>;

type OutboxRecord =
  | { k: 's'; seq: number; m: StatusMessage }
  | { k: 'l'; seq: number; t: string; n: number; m: LogMessage };

/** A line of the file: a record, or a marker that forgets records. */
type Line =
  | OutboxRecord
  /** Acknowledged by the master up to `seq` (status records). */
  | { k: 'a'; seq: number }
  /** Record `seq` delivered (logs) or dropped over the bound. */
  | { k: 'd'; seq: number }
  /** Written first by a compaction: the sequence so far and the last acknowledgement. */
  | { k: 'h'; seq: number; acked: number };

interface Pending {
  record: OutboxRecord;
  bytes: number;
  /** The replay that last published it (0: none); replays publish those of older rounds. */
  round: number;
  isDropped?: boolean;
}

const isFinal = (state: MesosTaskState) => isTerminal(fromMesosState(state));

export interface StatusOutbox {
  /**
   * Appends a status update with the next sequence number and sends it when the link is up.
   * Never throws and never waits: the update is kept (on disk soon after) until acknowledged.
   */
  status(update: StatusUpdate): StatusMessage;
  /**
   * Publishes a batch of a task's log lines; when the link is down (or the publish fails) the
   * batch waits in the outbox, behind what is already there, and goes out in order later.
   */
  logs(taskId: string, message: LogMessage, maxLen: number): Promise<void>;
  /** The master has applied every status up to `seq`: they are forgotten. Idempotent. */
  ack(seq: number): void;
  /**
   * The master misses some: everything held is sent again after the request, oldest first (a
   * replay running then starts over). Never ignored, whatever the state.
   */
  resend(): void;
  /** Tasks whose final status waits for an acknowledgement (for offers: ended, not missing). */
  endedTaskIds(): string[];
  /** Records waiting (statuses and log batches) and their bytes. */
  size(): { records: number; bytes: number; dropped: number };
  /** Whether the last publish went through and nothing waits for a replay. */
  isUp(): boolean;
  /** Stops sending and retrying, writes what is queued and closes the file. Idempotent. */
  close(): Promise<void>;
}

export interface StatusOutboxOptions {
  bus: Pick<Bus, 'publish'>;
  agentId: string;
  /** The agent's work directory; the outbox is `OUTBOX_FILE` in it. */
  dir: string;
  clock: Clock;
  logger: Logger;
  limits?: Partial<OutboxLimits>;
}

function isRecord(line: Line): line is OutboxRecord {
  return line.k === 's' || line.k === 'l';
}

/** A line read back: only the shapes this file holds (anything else is a damaged line). */
function parseLine(text: string): Line | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const line = value as Record<string, unknown>;
  const isObject = (v: unknown) => typeof v === 'object' && v !== null;
  if (typeof line.seq !== 'number' || !Number.isSafeInteger(line.seq)) return undefined;
  const kind = line.k;
  if (kind === 's') return isObject(line.m) ? (line as Line) : undefined;
  if (kind === 'l') {
    const isShaped = isObject(line.m) && typeof line.t === 'string' && typeof line.n === 'number';
    return isShaped ? (line as Line) : undefined;
  }
  if (kind === 'a' || kind === 'd') return line as Line;
  if (kind === 'h') return typeof line.acked === 'number' ? (line as Line) : undefined;
  return undefined;
}

/** Opens (and reads back) the agent's outbox; sending starts with a replay of what it holds. */
export async function openStatusOutbox(options: StatusOutboxOptions): Promise<StatusOutbox> {
  const { bus, agentId, clock, logger } = options;
  const limits: OutboxLimits = { ...defaultOutboxLimits, ...options.limits };
  await mkdir(options.dir, { recursive: true });
  const file = path.join(options.dir, OUTBOX_FILE);

  const pending: Pending[] = [];
  let pendingBytes = 0;
  /**
   * Log batches among `pending`: asked before each log batch is sent, which a scan of `pending`
   * (thousands of unacknowledged statuses during a launch burst) took 3–4 % of an agent's main
   * thread in a profile of 10,000 launches.
   */
  let pendingLogs = 0;
  let dropped = 0;
  let seq = 0;
  let acked = 0;
  let isLinkUp = false;
  let isClosed = false;
  let round = 0;
  let replaying: Promise<void> | undefined;
  let ackTimeoutMs = limits.ackTimeoutMs;
  /** When an acknowledgement last moved (or the outbox last became non-empty). */
  let progressAt = clock.now();
  let handle: FileHandle | undefined;
  let fileBytes = 0;
  let queued: string[] = [];
  let writing: Promise<void> | undefined;

  const lineOf = (line: Line) => `${JSON.stringify(line)}\n`;

  /** Holds `record`; `line` is its line in the file when the caller has it already. */
  function push(record: OutboxRecord, line = lineOf(record)): Pending {
    const entry: Pending = { record, bytes: Buffer.byteLength(line), round: 0 };
    if (pending.length === 0) progressAt = clock.now();
    pending.push(entry);
    pendingBytes += entry.bytes;
    if (record.k === 'l') pendingLogs++;
    enforceBound();
    return entry;
  }

  function remove(index: number): Pending {
    const [entry] = pending.splice(index, 1) as [Pending];
    pendingBytes -= entry.bytes;
    if (entry.record.k === 'l') pendingLogs--;
    return entry;
  }

  /** Drops records past `maxBytes` in the order the limits describe; never a final status. */
  function enforceBound(): void {
    if (pendingBytes <= limits.maxBytes) return;
    const latest = new Map<string, number>();
    for (const { record } of pending) if (record.k === 's') latest.set(record.m.taskId, record.seq);
    const rules: ((record: OutboxRecord) => boolean)[] = [
      (record) => record.k === 'l',
      (record) =>
        record.k === 's' && !isFinal(record.m.state) && latest.get(record.m.taskId) !== record.seq,
      (record) => record.k === 's' && !isFinal(record.m.state),
    ];
    for (const rule of rules) {
      for (let i = 0; i < pending.length && pendingBytes > limits.maxBytes;) {
        if (!rule((pending[i] as Pending).record)) {
          i++;
          continue;
        }
        const entry = remove(i);
        entry.isDropped = true;
        dropped++;
        queue({ k: 'd', seq: entry.record.seq });
      }
    }
  }

  /** Writes the pending records alone to a new file, then puts it in place of the old one. */
  async function compact(): Promise<void> {
    const temporary = `${file}.tmp`;
    const out = await open(temporary, 'w', 0o600);
    try {
      const body = [lineOf({ k: 'h', seq, acked }), ...pending.map((p) => lineOf(p.record))];
      await out.writeFile(body.join(''));
      await out.datasync();
    } finally {
      await out.close();
    }
    await rename(temporary, file);
    const directory = await open(options.dir, 'r');
    await directory.sync().finally(() => directory.close());
    await handle?.close();
    handle = await open(file, 'a', 0o600);
    fileBytes = (await stat(file)).size;
  }

  function queue(line: Line | string): void {
    if (isClosed || !handle) return;
    queued.push(typeof line === 'string' ? line : lineOf(line));
    startWriter();
  }

  function startWriter(): void {
    writing ??= writeQueued().finally(() => {
      writing = undefined;
      // Lines queued as the writer finished: another round.
      if (queued.length > 0 && handle) startWriter();
    });
  }

  /** Group commit: every line queued so far in one write and one fdatasync. */
  async function writeQueued(): Promise<void> {
    // Let the rest of this tick queue its lines too (a burst of statuses: one write).
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (queued.length > 0 && handle) {
      const batch = queued.join('');
      queued = [];
      try {
        await handle.write(batch);
        await handle.datasync();
        fileBytes += Buffer.byteLength(batch);
        if (fileBytes > COMPACT_MIN_BYTES && fileBytes > 2 * (pendingBytes + COMPACT_MIN_BYTES))
          await compact();
      } catch (error) {
        // A full or failing disk: the records stay in memory and are still sent.
        logger.error({ err: error, file }, 'outbox: could not write');
      }
    }
  }

  /** The `prev` of a status at `index`: the status before it still held, or the last ack. */
  function prevOf(index: number): number {
    for (let i = index - 1; i >= 0; i--) {
      const { record } = pending[i] as Pending;
      if (record.k === 's') return record.seq;
    }
    return acked;
  }

  async function publish(entry: Pending, prev: number): Promise<void> {
    const { record } = entry;
    if (record.k === 's') {
      await bus.publish(topics.status(agentId), { ...record.m, prev, acked });
      return;
    }
    await bus.publish(topics.logs(agentId, record.t), record.m, { maxLen: record.n });
    // Redis has it: a log batch needs no acknowledgement from the master.
    const at = pending.indexOf(entry);
    if (at >= 0) {
      remove(at);
      queue({ k: 'd', seq: record.seq });
    }
  }

  function goDown(error: unknown): void {
    if (isLinkUp) logger.warn({ err: error }, 'outbox: link down, updates kept for replay');
    isLinkUp = false;
  }

  /** Sends every pending record again, oldest first; the link is up once all went through. */
  async function replayAll(): Promise<void> {
    isLinkUp = false;
    const current = ++round;
    // One record first (the link may still be down), then windows of many.
    let window = 1;
    let replayed = 0;
    while (!isClosed) {
      // Published ones of this round are a prefix (records leave but never move, new ones append;
      // a resend empties it).
      const start = pending.findIndex((p) => p.round !== current);
      if (start < 0) break;
      const batch = pending.slice(start, start + window);
      let prev = prevOf(start);
      const sends = batch.map((entry) => {
        entry.round = current;
        const sent = publish(entry, prev);
        if (entry.record.k === 's') prev = entry.record.seq;
        return sent;
      });
      const failed = (await Promise.allSettled(sends)).find((o) => o.status === 'rejected');
      if (failed) return goDown(failed.reason);
      replayed += batch.length;
      window = REPLAY_WINDOW;
    }
    if (isClosed) return;
    if (replayed > 0) logger.info({ records: replayed }, 'outbox: replayed');
    isLinkUp = true;
  }

  function replay(): void {
    if (replaying || isClosed) return;
    replaying = replayAll().finally(() => {
      replaying = undefined;
    });
  }

  /**
   * The master's request, never dropped: everything held goes out after it, oldest first. A
   * replay running then starts over from the oldest once its window in flight is through: the
   * master may miss what it already sent (it failed to apply them, or read a later one first),
   * and ignoring the request there left the gap until the master asked again, 30 s later
   * (RESEND_RETRY_MS, master/agent-reports.ts). Log batches in flight are not sent twice: Redis
   * took them once they are out of `pending`.
   */
  function resend(): void {
    if (replaying) for (const entry of pending) if (entry.round === round) entry.round = 0;
    replay();
  }

  /**
   * Sends the newest status again. A master that is only behind reads it as a duplicate (one
   * entry, where a replay of everything added thousands to the stream it is behind on and put
   * it further behind, issue #12); one that lost its acknowledgement acknowledges again; one
   * missing some (Redis lost them) sees a gap and asks for a resend.
   */
  function probe(): void {
    let index = pending.length - 1;
    while (index >= 0 && (pending[index] as Pending).record.k !== 's') index--;
    const newest = pending[index];
    if (!newest || replaying || isClosed) return;
    publish(newest, prevOf(index)).catch((error: unknown) => goDown(error));
  }

  function send(entry: Pending): void {
    if (!isLinkUp || replaying || isClosed || entry.isDropped) return;
    publish(entry, prevOf(pending.lastIndexOf(entry))).catch((error: unknown) => goDown(error));
  }

  // Read back what an earlier process left: records, minus those acknowledged or done.
  const loaded = new Map<number, OutboxRecord>();
  const { lines, damaged } = await readJsonLines(file, parseLine);
  for (const line of lines) {
    seq = Math.max(seq, line.seq);
    if (isRecord(line)) loaded.set(line.seq, line);
    else if (line.k === 'd') loaded.delete(line.seq);
    else acked = Math.max(acked, line.k === 'a' ? line.seq : line.acked);
  }
  for (const record of [...loaded.values()].sort((a, b) => a.seq - b.seq))
    if (record.k === 'l' || record.seq > acked) push(record);
  if (damaged > 0) logger.warn({ file, damaged }, 'outbox: damaged lines dropped');
  // Increasing across restarts (and from a clock-based start, as before the outbox existed).
  seq = Math.max(seq, clock.now() * 1000);
  // From here on the file holds only what is pending (a torn end is gone), then grows by appends.
  await compact();

  const timer = setInterval(
    () => {
      if (isClosed) return;
      if (!isLinkUp) return replay();
      const isWaiting = pending.some((p) => p.record.k === 's');
      if (isWaiting && clock.now() - progressAt > ackTimeoutMs) {
        // Nothing acknowledged for a while: the master is behind, lost an acknowledgement, or
        // Redis lost updates. The newest tells which; a replay comes only when the master asks.
        logger.warn({ records: pending.length, ackTimeoutMs }, 'outbox: unacknowledged, probing');
        ackTimeoutMs = Math.min(ackTimeoutMs * 2, MAX_ACK_TIMEOUT_MS);
        progressAt = clock.now();
        probe();
      }
    },
    Math.min(limits.retryMs, limits.ackTimeoutMs),
  );
  timer.unref();
  replay();

  return {
    status(update) {
      const message: StatusMessage = { ...update, seq: ++seq };
      const record: OutboxRecord = { k: 's', seq: message.seq, m: message };
      // Serialised once, for its size and for the file (a burst has thousands).
      const line = lineOf(record);
      const entry = push(record, line);
      if (!entry.isDropped) queue(line);
      send(entry);
      return message;
    },

    async logs(taskId, message, maxLen) {
      if (isLinkUp && !replaying && pendingLogs === 0) {
        try {
          await bus.publish(topics.logs(agentId, taskId), message, { maxLen });
          return;
        } catch (error) {
          goDown(error);
        }
      }
      if (isClosed) return;
      const record: OutboxRecord = { k: 'l', seq: ++seq, t: taskId, n: maxLen, m: message };
      const entry = push(record);
      if (!entry.isDropped) queue(record);
    },

    ack(upTo) {
      if (!Number.isSafeInteger(upTo) || upTo <= acked || upTo > seq) return;
      acked = upTo;
      const kept = pending.filter(({ record }) => record.k !== 's' || record.seq > upTo);
      if (kept.length < pending.length) {
        pending.length = 0;
        pendingBytes = 0;
        for (const entry of kept) {
          pending.push(entry);
          pendingBytes += entry.bytes;
        }
        progressAt = clock.now();
        ackTimeoutMs = limits.ackTimeoutMs;
      }
      queue({ k: 'a', seq: upTo });
    },

    resend,

    endedTaskIds() {
      const ids = new Set<string>();
      for (const { record } of pending)
        if (record.k === 's' && isFinal(record.m.state)) ids.add(record.m.taskId);
      return [...ids];
    },

    size: () => ({ records: pending.length, bytes: pendingBytes, dropped }),
    isUp: () => isLinkUp && !replaying,

    async close() {
      if (isClosed) return;
      // What is queued is written; a replay in flight is left to fail with the bus.
      while (writing) await writing;
      isClosed = true;
      clearInterval(timer);
      await handle?.close();
      handle = undefined;
    },
  };
}
