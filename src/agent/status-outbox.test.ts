// The agent's on-disk outbox over a bus the test breaks and mends: updates wait until
// acknowledged and go out again in order after a failure, a silence or a restart; the file
// survives a torn last line; its bound drops log batches first and never a task's end.
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/support/wait-for.js';
import type { LogMessage, StatusMessage } from '../bus/index.js';
import { topics } from '../bus/index.js';
import type { MesosTaskState } from '../domain/index.js';
import { silentLogger, systemClock } from '../lib/index.js';
import {
  OUTBOX_FILE,
  openStatusOutbox,
  type OutboxLimits,
  type StatusOutbox,
} from './status-outbox.js';

const AGENT = 'agent-o';

/** A bus that records what it takes and refuses everything while `isDown`. */
function flakyBus() {
  const published: { stream: string; message: StatusMessage | LogMessage }[] = [];
  const state = { isDown: false, attempts: 0 };
  return {
    state,
    published,
    statuses: () =>
      published
        .filter((p) => p.stream === topics.status(AGENT))
        .map((p) => p.message as StatusMessage),
    async publish(stream: string, message: object) {
      state.attempts++;
      if (state.isDown) throw new Error('link down');
      published.push({ stream, message: message as StatusMessage | LogMessage });
      return `${published.length}-0`;
    },
  };
}

let dir: string;
const opened: StatusOutbox[] = [];

async function openOutbox(bus: ReturnType<typeof flakyBus>, limits: Partial<OutboxLimits> = {}) {
  const outbox = await openStatusOutbox({
    bus,
    agentId: AGENT,
    dir,
    clock: systemClock,
    logger: silentLogger(),
    limits: { retryMs: 10, ackTimeoutMs: 60_000, ...limits },
  });
  opened.push(outbox);
  return outbox;
}

const update = (taskId: string, state: MesosTaskState, message?: string) => ({
  type: 'status' as const,
  agentId: AGENT,
  taskId,
  state,
  at: 1,
  ...(message ? { message } : {}),
});

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'outbox-'));
});

afterEach(async () => {
  for (const outbox of opened.splice(0)) await outbox.close();
  await rm(dir, { recursive: true, force: true });
});

describe('status outbox', () => {
  it('sends each update with the one before it, and keeps it until acknowledged', async () => {
    const bus = flakyBus();
    const outbox = await openOutbox(bus);
    await waitFor('the link up', () => outbox.isUp());
    const first = outbox.status(update('t1', 'TASK_RUNNING'));
    const second = outbox.status(update('t1', 'TASK_FINISHED'));
    await waitFor('both sent', () => bus.statuses().length === 2);
    expect(bus.statuses().map((s) => [s.seq, s.prev])).toEqual([
      [first.seq, 0],
      [second.seq, first.seq],
    ]);
    expect(outbox.endedTaskIds()).toEqual(['t1']);
    outbox.ack(first.seq);
    expect(outbox.size().records).toBe(1);
    outbox.ack(second.seq);
    expect(outbox.size().records).toBe(0);
    expect(outbox.endedTaskIds()).toEqual([]);
  });

  it('holds updates while the link is down and replays them in order once it is back', async () => {
    const bus = flakyBus();
    const outbox = await openOutbox(bus);
    await waitFor('the link up', () => outbox.isUp());
    bus.state.isDown = true;
    const sent = ['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED'].map((state) =>
      outbox.status(update('t1', state as MesosTaskState)),
    );
    await outbox.logs('t1', { at: 1, lines: [{ stream: 'stdout', line: 'last words' }] }, 100);
    await waitFor('a replay tried and failed', () => bus.state.attempts > 3 && !outbox.isUp());
    expect(bus.published).toEqual([]);
    bus.state.isDown = false;
    await waitFor('the replay', () => outbox.isUp());
    const statuses = bus.statuses();
    expect(statuses.map((s) => s.seq)).toEqual(sent.map((s) => s.seq));
    // Each names its predecessor: the master applies them in this order only.
    expect(statuses.map((s) => s.prev)).toEqual([0, ...sent.slice(0, -1).map((s) => s.seq)]);
    // The log batch went out after the updates before it, and, taken by Redis, is forgotten.
    expect(bus.published.map((p) => p.stream).at(-1)).toBe(topics.logs(AGENT, 't1'));
    expect(outbox.size().records).toBe(4);
    // None waits now: the next batch goes straight out, held by no record.
    await outbox.logs('t1', { at: 2, lines: [{ stream: 'stdout', line: 'more' }] }, 100);
    expect(bus.published.at(-1)?.message).toEqual({
      at: 2,
      lines: [{ stream: 'stdout', line: 'more' }],
    });
    expect(outbox.size().records).toBe(4);
  });

  it('sends the newest again when no acknowledgement comes (lost, or the master behind)', async () => {
    const bus = flakyBus();
    const outbox = await openOutbox(bus, { ackTimeoutMs: 30 });
    await waitFor('the link up', () => outbox.isUp());
    const ended = outbox.status(update('t1', 'TASK_FINISHED'));
    await waitFor(
      'sent twice',
      () => bus.statuses().filter((s) => s.seq === ended.seq).length >= 2,
    );
    outbox.ack(ended.seq);
    const count = bus.statuses().length;
    outbox.status(update('t2', 'TASK_RUNNING'));
    await waitFor('the next one sent', () => bus.statuses().length === count + 1);
    expect(bus.statuses().at(-1)?.prev).toBe(ended.seq);
    expect(bus.statuses().at(-1)?.acked).toBe(ended.seq);
  });

  // Issue #12: a master behind on 10 agents' status streams acknowledged nothing for 10 s; each
  // outbox published its thousands of updates again every 10, 20, 40 s, and the streams it was
  // behind on grew to 40,000 entries.
  it('adds one entry a silence to the stream, not its whole content, until the master asks', async () => {
    const bus = flakyBus();
    const outbox = await openOutbox(bus, { ackTimeoutMs: 20 });
    await waitFor('the link up', () => outbox.isUp());
    const sent = Array.from({ length: 1_000 }, (_, n) =>
      outbox.status(update(`t${n}`, 'TASK_RUNNING')),
    );
    const newest = sent.at(-1) as StatusMessage;
    const probes = () => bus.statuses().filter((s) => s.seq === newest.seq).length - 1;
    await waitFor('three silences', () => probes() >= 3);
    expect(bus.statuses().length).toBe(1_000 + probes());
    expect(bus.statuses().at(-1)).toMatchObject({ seq: newest.seq, prev: sent.at(-2)?.seq });
    // The master saw a gap: everything once, oldest first. Asked again when the first had gone
    // out, the replay starts over (the master may miss what it sent): that one twice, no more.
    const before = bus.statuses().length;
    outbox.resend();
    outbox.resend();
    await waitFor('the replay', () => outbox.isUp());
    const replayed = bus.statuses().slice(before);
    expect(replayed[0]?.seq).toBe(sent[0]?.seq);
    expect(replayed.slice(1, 1_001).map((s) => s.seq)).toEqual(sent.map((s) => s.seq));
    // Beyond the replay, only probes (the newest) of the silences since.
    expect(replayed.slice(1_001).every((s) => s.seq === newest.seq)).toBe(true);
  });

  it('replays after a restart what the master had not acknowledged, and nothing it had', async () => {
    const bus = flakyBus();
    const before = await openOutbox(bus);
    await waitFor('the link up', () => before.isUp());
    const acked = before.status(update('t1', 'TASK_RUNNING'));
    const running = before.status(update('t2', 'TASK_RUNNING'));
    const ended = before.status(update('t2', 'TASK_KILLED'));
    before.ack(acked.seq);
    await before.close();
    opened.splice(opened.indexOf(before), 1);

    const again = flakyBus();
    const after = await openOutbox(again);
    await waitFor('the replay', () => after.isUp());
    expect(again.statuses().map((s) => s.seq)).toEqual([running.seq, ended.seq]);
    expect(again.statuses()[0]).toMatchObject({ prev: acked.seq, acked: acked.seq });
    expect(after.endedTaskIds()).toEqual(['t2']);
    // Numbers go on increasing after the restart.
    expect(after.status(update('t3', 'TASK_STAGING')).seq).toBeGreaterThan(ended.seq);
  });

  it('drops a torn last line and a damaged one, and keeps the rest', async () => {
    const bus = flakyBus();
    const before = await openOutbox(bus);
    bus.state.isDown = true;
    const first = before.status(update('t1', 'TASK_FINISHED'));
    const second = before.status(update('t2', 'TASK_FAILED'));
    await before.close();
    opened.splice(opened.indexOf(before), 1);
    const file = path.join(dir, OUTBOX_FILE);
    const text = await readFile(file, 'utf8');
    // A damaged line in the middle, then a write cut short by a crash.
    const lines = text.split('\n');
    lines.splice(1, 0, '{"k":"s","seq":', 'not json at all', '[]', '{"k":"zz","seq":5}');
    await writeFile(file, lines.join('\n'));
    await appendFile(file, '{"k":"s","seq":99999999999999999,"m":{"type":"sta');

    const again = flakyBus();
    const after = await openOutbox(again);
    await waitFor('the replay', () => after.isUp());
    expect(again.statuses().map((s) => s.seq)).toEqual([first.seq, second.seq]);
    // The file was rewritten whole: the torn end is gone, the next start reads it cleanly.
    expect(await readFile(file, 'utf8')).toMatch(/\n$/);
  });

  it('over its bound drops log batches first, then superseded updates, never a final one', async () => {
    const bus = flakyBus();
    const outbox = await openOutbox(bus, { maxBytes: 2_000 });
    bus.state.isDown = true;
    const line = 'x'.repeat(300);
    for (let i = 0; i < 3; i++)
      await outbox.logs('t0', { at: 1, lines: [{ stream: 'stdout', line }] }, 100);
    const ends: number[] = [];
    for (let i = 0; i < 8; i++) {
      outbox.status(update(`t${i}`, 'TASK_RUNNING', line));
      ends.push(outbox.status(update(`t${i}`, 'TASK_FINISHED', line)).seq);
    }
    expect(outbox.size().dropped).toBeGreaterThan(3);
    bus.state.isDown = false;
    await waitFor('the replay', () => outbox.isUp());
    // Every end is there, in order; no log batch and no superseded RUNNING survived.
    expect(bus.statuses().map((s) => s.seq)).toEqual(ends);
    expect(bus.published.filter((p) => p.stream !== topics.status(AGENT))).toEqual([]);
    // The dropped batches hold nothing back: the next one goes straight out.
    const records = outbox.size().records;
    await outbox.logs('t0', { at: 2, lines: [{ stream: 'stdout', line: 'after' }] }, 100);
    expect(bus.published.at(-1)?.stream).toBe(topics.logs(AGENT, 't0'));
    expect(outbox.size().records).toBe(records);
  });

  it('ignores an acknowledgement of what it never sent', async () => {
    const bus = flakyBus();
    const outbox = await openOutbox(bus);
    const sent = outbox.status(update('t1', 'TASK_RUNNING'));
    outbox.ack(sent.seq + 1_000);
    outbox.ack(Number.NaN);
    outbox.ack(-1);
    expect(outbox.size().records).toBe(1);
  });
});
