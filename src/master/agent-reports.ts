// The master's reader of what agents send: every watched agent's own offers and status streams,
// through one bus reader (one XREADGROUP over all of them). A message is believed only for what
// the stream's owner owns: its own agent id, tasks placed on it. The rest is dropped and counted.
//
//   agent:<id>:offers ─┐  schema (zod) ─► owner check ─► the newest of the read ─► liveness.onOffer
//   agent:<id>:status ─┘  (status-check.ts)      └────► fence (order, once) ─► statuses.handleMany
//                                                        │  then ack (or resend) ─► the agent
//                                                        └────► health.handle
//   agents (announce; only when identity is not required) ─► watch(id); the kept ones on start
import type {
  AnnounceMessage,
  Bus,
  BusEntry,
  HealthMessage,
  OfferMessage,
  StatusMessage,
  StreamSetSubscription,
  Subscription,
} from '../bus/index.js';
import { ANNOUNCEMENTS_KEPT, BusDecodeError, topics } from '../bus/index.js';
// Not in the bus's index: the zod schemas stay out of the agent (bus/index.ts).
import { AnnounceMessageSchema, OfferMessageSchema } from '../bus/message-schemas.js';
import { StatusStreamCheck } from '../bus/status-check.js';
import type { Clock, Logger } from '../lib/index.js';
import { systemClock } from '../lib/index.js';
import type { AgentCommands } from './agent-commands.js';
import type { AgentLiveness } from './agent-liveness.js';
import type { AgentTrust } from './agent-trust.js';
import type { HealthHandler } from './health-handler.js';
import type { InstanceView } from './applier/index.js';
import type { StatusHandler } from './status-handler.js';
import { createStatusFence } from './status-fence.js';

export interface AgentReports {
  /** Starts reading the agent's streams (now, or when `start` is called). Idempotent. */
  watch(agentId: string): void;
  /** Stops reading them; nothing it sends is read any more. Idempotent. */
  unwatch(agentId: string): void;
  /** The agents watched. */
  watched(): string[];
  /** The agent a believed status named for `taskId` (recent tasks only), for its logs. */
  agentOfTask(taskId: string): string | undefined;
  /** Leading: reads every watched agent (and announcements, when allowed). */
  start(): void;
  /** Following: stops reading; the watched set is kept. */
  stop(): Promise<void>;
}

type Report = OfferMessage | StatusMessage | HealthMessage;

interface Source {
  agentId: string;
  kind: 'offers' | 'status';
}

/**
 * A resend asked and not answered (nothing applied since) is asked again after this long: the
 * request may have been lost. Long, because a master far behind reads the same gap for as long
 * as it takes to reach the replay, and each request is a whole replay; a lost replay is the
 * agent's to notice (no acknowledgement for its ack timeout).
 */
const RESEND_RETRY_MS = 30_000;

/**
 * Entries read from each agent's streams per round trip. A read's statuses are stored in one
 * write before the next read; while the agents of 10,000 launches outran the master, 100 a
 * stream made the reads the bottleneck: with 500, the last status was stored 1.4–1.8 s after
 * the agents published it, against 2.3–4 s with 100 (bench/scheduler-e2e.ts, alternating runs).
 */
const REPORTS_PER_READ = 500;

/** Tasks whose agent is remembered after the instance moved on (for their logs). */
const MAX_REMEMBERED_TASKS = 100_000;

/** Either stream's schema; the stream decides which kind is expected. */
const ReportSchema = {
  safeParse(value: unknown) {
    const isOffer =
      typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'offer';
    return isOffer ? OfferMessageSchema.safeParse(value) : StatusStreamCheck.safeParse(value);
  },
};

export function createAgentReports(options: {
  bus: Bus;
  /** This master's consumer name. */
  masterId: string;
  /** When false, agents announce themselves on the shared `agents` stream and are watched. */
  isIdentityRequired: boolean;
  /** An agent that must not be watched again (revoked). */
  isRevoked: (agentId: string) => boolean;
  tracker: Pick<InstanceView, 'byTaskId'>;
  statuses: Pick<StatusHandler, 'handleMany'>;
  health: HealthHandler;
  liveness: Pick<AgentLiveness, 'onOffer'>;
  trust: AgentTrust;
  /** Acknowledges applied status updates to their agent's outbox (or asks for them again). */
  commands: Pick<AgentCommands, 'ack' | 'resend'>;
  logger: Logger;
  /** For when a resend was asked (default: the system clock). */
  clock?: Clock;
  /**
   * Told the fuel figures of the newest believed offer of each read, only those of tasks placed on its sender
   * (figures for another agent's tasks are dropped and counted as `foreign_task`; for tasks the
   * master does not know, dropped: their kill is on its way).
   */
  onTaskFuel?: (agentId: string, entries: { taskId: string; fuelUsed: number }[]) => void;
  /** Told the metric snapshot of the newest believed offer of each read (its sender's own). */
  onMetrics?: (agentId: string, snapshot: NonNullable<OfferMessage['metrics']>) => void;
  /** Told the age of the newest entry of each batch handled, by stream kind (seconds). */
  onLag?: (stream: string, seconds: number) => void;
}): AgentReports {
  const { bus, masterId, tracker, statuses, health, liveness, trust, logger } = options;
  const sources = new Map<string, Source>();
  const agents = new Set<string>();
  /** Task → the agent whose believed status named it; oldest dropped past the cap. */
  const taskAgents = new Map<string, string>();
  const fence = createStatusFence();
  const clock = options.clock ?? systemClock;
  /** Agent → its outstanding resend: the last seq applied when asked, and when. */
  const resends = new Map<string, { applied: number | undefined; atMs: number }>();

  /**
   * Asks the agent to resend, once per gap: every batch read until the replay arrives shows the
   * same gap, and each request made the agent publish its whole outbox again (issue #12). Asked
   * again only once something was applied since (a new gap) or the last request is old.
   */
  async function askResend(agentId: string): Promise<void> {
    const applied = fence.applied(agentId);
    const asked = resends.get(agentId);
    const now = clock.now();
    if (asked && asked.applied === applied && now - asked.atMs < RESEND_RETRY_MS) return;
    resends.set(agentId, { applied, atMs: now });
    await options.commands.resend(agentId);
  }
  let reader: StreamSetSubscription | undefined;
  let announcements: Subscription | undefined;

  function streamsOf(agentId: string): [string, Source][] {
    return [
      [topics.offers(agentId), { agentId, kind: 'offers' }],
      [topics.status(agentId), { agentId, kind: 'status' }],
    ];
  }

  /** The owner's word about this message, or the reason to drop it. */
  function isBelieved(owner: string, kind: Source['kind'], message: Report): boolean {
    const drop = (reason: 'invalid' | 'foreign_agent' | 'foreign_task') => {
      trust.drop({
        agentId: owner,
        reason,
        detail: { type: message.type, claimed: message.agentId },
      });
      return false;
    };
    if ((message.type === 'offer') !== (kind === 'offers')) return drop('invalid');
    if (message.agentId !== owner) return drop('foreign_agent');
    if (message.type === 'offer') return true;
    // A task the master does not know is the owner's own business (the status handler kills it
    // there); a task placed on another agent is not.
    const instance = tracker.byTaskId(message.taskId);
    if (instance && instance.agentId !== owner) return drop('foreign_task');
    return true;
  }

  /** The fuel figures about the owner's own tasks; the others are dropped (and counted). */
  function ownFuel(
    owner: string,
    entries: NonNullable<OfferMessage['taskFuel']>,
  ): NonNullable<OfferMessage['taskFuel']> {
    return entries.filter(({ taskId }) => {
      const instance = tracker.byTaskId(taskId);
      if (instance?.agentId === owner) return true;
      if (instance)
        trust.drop({ agentId: owner, reason: 'foreign_task', detail: { type: 'offer', taskId } });
      return false;
    });
  }

  async function handle(
    owner: string,
    kind: Source['kind'],
    entries: BusEntry<Report>[],
  ): Promise<void> {
    let run: StatusMessage[] = [];
    let ack: number | undefined;
    let hasGap = false;
    /** Applies a run of updates in order and once (the fence), then marks them applied. */
    const apply = async () => {
      const admission = fence.admit(owner, run);
      run = [];
      hasGap ||= admission.hasGap;
      if (admission.admitted.length > 0) await statuses.handleMany(admission.admitted);
      ack = admission.commit() ?? ack;
    };
    /** The newest offer of the batch: each is the whole of the agent's state when it was sent. */
    let newestOffer: BusEntry<OfferMessage> | undefined;
    for (const { id, message } of entries) {
      if (!isBelieved(owner, kind, message)) continue;
      switch (message.type) {
        case 'offer':
          newestOffer = { id, message };
          break;
        case 'status':
          remember(message.taskId, owner);
          run.push(message);
          break;
        case 'health':
          // A health result splits the run, so each message still takes effect in stream order.
          if (run.length > 0) await apply();
          await health.handle(message);
          break;
      }
    }
    if (newestOffer) {
      // The older ones are superseded: taking each in turn (a store write or more apiece) made a
      // master that had fallen behind fall further behind (issue #12: 100 offers a batch).
      const { id, message: offer } = newestOffer;
      await liveness.onOffer(offer, id);
      if (offer.metrics) options.onMetrics?.(owner, offer.metrics);
      options.onTaskFuel?.(owner, ownFuel(owner, offer.taskFuel ?? []));
    }
    if (run.length > 0) await apply();
    // Applied (stored) before acknowledged: the agent's outbox forgets only what is kept here.
    // Not awaited: the next batch need not wait for Redis to take it (one connection keeps the
    // acks in order); a lost one makes the agent probe for it (agent/status-outbox.ts).
    if (ack !== undefined)
      options.commands
        .ack(owner, ack)
        .catch((error: unknown) => logger.warn({ err: error, agentId: owner }, 'ack not sent'));
    if (hasGap) await askResend(owner);
  }

  function remember(taskId: string, agentId: string): void {
    if (taskAgents.get(taskId) === agentId) return;
    taskAgents.set(taskId, agentId);
    if (taskAgents.size > MAX_REMEMBERED_TASKS) {
      const oldest = taskAgents.keys().next();
      if (!oldest.done) taskAgents.delete(oldest.value);
    }
  }

  function onError(error: unknown): void {
    const source = error instanceof BusDecodeError ? sources.get(error.stream) : undefined;
    if (source) {
      const detail = { err: (error as BusDecodeError).message };
      trust.drop({ agentId: source.agentId, reason: 'invalid', detail });
      return;
    }
    logger.error({ err: error }, 'agent report handling failed');
  }

  /**
   * Every agent announced in the kept announcements, watched. The group acknowledges an
   * announcement when a master reads it, but the agent is stored only with its first offer: an
   * agent that announced to a master that lost its lease (or its store) before that write would
   * be read by no later master, and its tasks never placed (the chaos suite's Postgres fault).
   */
  async function replayAnnouncements(): Promise<void> {
    for (const { message } of await bus.tail<unknown>(topics.announce, ANNOUNCEMENTS_KEPT)) {
      const parsed = AnnounceMessageSchema.safeParse(message);
      if (parsed.success) watch(parsed.data.agentId);
    }
  }

  function watch(agentId: string): void {
    if (agents.has(agentId) || options.isRevoked(agentId)) return;
    agents.add(agentId);
    for (const [stream, source] of streamsOf(agentId)) {
      sources.set(stream, source);
      reader?.add(stream);
    }
  }

  return {
    watch,

    unwatch(agentId) {
      agents.delete(agentId);
      fence.forget(agentId);
      resends.delete(agentId);
      for (const [stream] of streamsOf(agentId)) {
        sources.delete(stream);
        reader?.delete(stream);
      }
    },

    watched: () => [...agents],
    agentOfTask: (taskId) => taskAgents.get(taskId),

    start() {
      if (reader) return;
      // Another master may have applied updates since this one last led.
      fence.clear();
      resends.clear();
      reader = bus.consumeMany<Report>({
        streams: [...sources.keys()],
        group: 'master',
        consumer: masterId,
        batchSize: REPORTS_PER_READ,
        schema: ReportSchema,
        handleBatch: async (stream, entries) => {
          const source = sources.get(stream);
          if (!source) return; // unwatched since the read: acknowledged, not believed
          const newest = entries[entries.length - 1];
          // Entry ids start with the bus's own clock in ms: the age says how far behind we read.
          if (newest && options.onLag)
            options.onLag(`agent:${source.kind}`, (Date.now() - entryMs(newest.id)) / 1000);
          await handle(source.agentId, source.kind, entries);
        },
        onError,
      });
      if (!options.isIdentityRequired) {
        replayAnnouncements().catch((error: unknown) =>
          logger.warn({ err: error }, 'reading back agent announcements failed'),
        );
        announcements = bus.consume<AnnounceMessage>({
          stream: topics.announce,
          group: 'master',
          consumer: masterId,
          schema: AnnounceMessageSchema,
          handler: async ({ message }) => watch(message.agentId),
          onError: (error) =>
            error instanceof BusDecodeError
              ? trust.drop({ agentId: topics.announce, reason: 'invalid' })
              : logger.error({ err: error }, 'agent announcement failed'),
        });
      }
    },

    async stop() {
      const stopping = [reader, announcements];
      reader = undefined;
      announcements = undefined;
      for (const subscription of stopping) await subscription?.stop();
    },
  };
}

/** The time part (ms) of a stream entry id `<ms>-<n>`. */
function entryMs(id: string): number {
  const ms = Number.parseInt(id, 10);
  return Number.isFinite(ms) ? ms : Date.now();
}
