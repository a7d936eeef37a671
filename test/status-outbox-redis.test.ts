// The agent's outbox on a real Redis: a resend the master asks for while a replay is running is
// answered, not dropped. The master may miss what that replay already put on the stream (it
// failed to apply them, or read a later one first); a dropped request left the gap until the
// master asked again, 30 s later. Alone, then with the master's reader and fence.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStatusOutbox, type StatusOutbox } from '../src/agent/status-outbox.js';
import type { Bus, CommandMessage, StatusMessage, Subscription } from '../src/bus/index.js';
import { CommandMessageSchema, createRedisBus, topics } from '../src/bus/index.js';
import { silentLogger, systemClock } from '../src/lib/index.js';
import { createAgentCommands } from '../src/master/agent-commands.js';
import { createAgentReports, type AgentReports } from '../src/master/agent-reports.js';
import { createAgentTrust } from '../src/master/agent-trust.js';
import { hasService, REDIS_URL, redisPrefix } from './support/services.js';
import { waitFor } from './support/wait-for.js';

const ok = await hasService('redis');
const AGENT = 'agent-resend';

/**
 * Publishes through `bus`; the answer to the next publish of the status numbered `seq` can be
 * held back (Redis has the entry already), as a slow reply keeps a replay's window in flight.
 */
function holdingAnswers(bus: Bus) {
  let heldSeq: number | undefined;
  let release: (() => void) | undefined;
  return {
    bus: {
      async publish(...args: Parameters<Bus['publish']>) {
        const id = await bus.publish(...args);
        if ((args[1] as Partial<StatusMessage>).seq === heldSeq) {
          heldSeq = undefined;
          await new Promise<void>((resolve) => (release = resolve));
        }
        return id;
      },
    },
    holdNext: (seq: number) => void (heldSeq = seq),
    isHeld: () => release !== undefined,
    release() {
      release?.();
      release = undefined;
    },
  };
}

describe.skipIf(!ok)('status outbox on Redis', () => {
  const logger = silentLogger();
  let bus: Bus;
  let dir: string;
  let outbox: StatusOutbox | undefined;
  /** The master's reader and the agent's command reader, when a test starts them. */
  const readers: (AgentReports | Subscription)[] = [];

  beforeEach(async () => {
    bus = createRedisBus({ url: REDIS_URL, prefix: redisPrefix(), logger });
    dir = await mkdtemp(path.join(os.tmpdir(), 'outbox-redis-'));
  });

  afterEach(async () => {
    for (const reader of readers.splice(0)) await reader.stop();
    await outbox?.close();
    outbox = undefined;
    await bus.close();
    await rm(dir, { recursive: true, force: true });
  });

  function open(publisher: Pick<Bus, 'publish'>): Promise<StatusOutbox> {
    return openStatusOutbox({
      bus: publisher,
      agentId: AGENT,
      dir,
      clock: systemClock,
      logger,
      // No probe during a test: only a replay sends a record again.
      limits: { retryMs: 10, ackTimeoutMs: 600_000 },
    });
  }

  const running = (taskId: string) =>
    ({ type: 'status', agentId: AGENT, taskId, state: 'TASK_RUNNING', at: 1 }) as const;

  /** The statuses on the agent's stream, oldest first. */
  async function onStream(): Promise<StatusMessage[]> {
    return (await bus.tail<StatusMessage>(topics.status(AGENT), 1_000)).map((e) => e.message);
  }

  it('answers a resend asked while a replay runs, with what that replay already sent', async () => {
    const link = holdingAnswers(bus);
    const opened = await open(link.bus);
    outbox = opened;
    await waitFor('the link up', () => opened.isUp());
    const sent = ['t1', 't2', 't3'].map((taskId) => opened.status(running(taskId)));
    const seqs = sent.map((s) => s.seq);
    await waitFor('sent once', async () => (await onStream()).length === 3);

    // The master saw a gap: a replay puts all three on the stream again, and the answer to the
    // last one is slow, so the replay is still running.
    link.holdNext(seqs[2] as number);
    opened.resend();
    await waitFor('the replay on the stream, its last answer held', async () => {
      const stream = await onStream();
      return stream.length === 6 && link.isHeld();
    });
    expect((await onStream()).slice(3).map((s) => s.seq)).toEqual(seqs);
    expect(opened.isUp()).toBe(false);

    // The master missed those too (its write of them failed): it asks again, mid-replay.
    opened.resend();
    link.release();
    const again = await waitFor('all three sent again after the request', async () => {
      const after = (await onStream()).slice(6);
      return after.length >= 3 && after;
    });
    // In order, each naming the one before it: the master applies them as they come.
    expect(again.slice(0, 3).map((s) => [s.seq, s.prev])).toEqual([
      [seqs[0], 0],
      [seqs[1], seqs[0]],
      [seqs[2], seqs[1]],
    ]);
    await waitFor('the replay over', () => opened.isUp());
  });

  it("fills at once a gap the master sees during a restarted agent's replay", async () => {
    // The agent held four updates when it stopped (its bus gone: nothing reached Redis).
    const gone = createRedisBus({ url: REDIS_URL, prefix: redisPrefix(), logger });
    await gone.close();
    const before = await open(gone);
    const seqs = ['t1', 't2', 't3', 't4'].map((taskId) => before.status(running(taskId)).seq);
    await before.close();

    // The master: its first write of a batch fails (the store), so that batch waits for the
    // group's reclaim (30 s) and the next one shows a gap.
    const applied: number[] = [];
    let failures = 0;
    const reports = createAgentReports({
      bus,
      masterId: 'm',
      isIdentityRequired: true,
      isRevoked: () => false,
      tracker: { byTaskId: () => undefined },
      statuses: {
        async handleMany(messages) {
          if (failures++ === 0) throw new Error('store unavailable');
          applied.push(...messages.map((m) => m.seq));
        },
      },
      health: { handle: async () => undefined },
      liveness: { onOffer: async () => undefined },
      trust: createAgentTrust({ logger }),
      commands: createAgentCommands({ bus }),
      logger,
    });
    reports.watch(AGENT);
    reports.start();
    readers.push(reports);

    // The agent again: its replay on start, the first record alone, then the rest in a window.
    const link = holdingAnswers(bus);
    link.holdNext(seqs[0] as number);
    const opened = await open(link.bus);
    outbox = opened;
    let resends = 0;
    readers.push(
      bus.consume<CommandMessage>({
        stream: topics.commands(AGENT),
        group: 'agent',
        consumer: AGENT,
        schema: CommandMessageSchema,
        handler: async ({ message }) => {
          if (message.type === 'ack') opened.ack(message.seq);
          if (message.type === 'resend') {
            resends++;
            opened.resend();
          }
        },
      }),
    );
    await waitFor('the first record read, its write failed', () => failures === 1);
    link.holdNext(seqs[3] as number);
    link.release();
    // The rest read after the failed one: a gap, and a request that reaches the agent while its
    // replay waits for the answer about the last record.
    await waitFor('the resend asked and received mid-replay', () => resends === 1 && link.isHeld());
    expect(opened.isUp()).toBe(false);
    link.release();
    await waitFor('all four applied, in order', () => applied.length === 4);
    expect(applied).toEqual(seqs);
    await waitFor('acknowledged', () => opened.size().records === 0);
  });
});
