// Keeps the master's instances true to what agents report: adopts and kills on each offer,
// marks tasks of silent or revoked agents unreachable, replaces and expunges them per
// unreachableStrategy. Offers reach it only from their own agent's stream (agent-reports.ts), so
// an offer can mark missing only the tasks of the agent that sent it.
import type { OfferMessage } from '../bus/index.js';
import { isNewerStreamId } from '../bus/index.js';
import type { Condition, Instance } from '../domain/index.js';
import { currentTaskId, failureMessage, isTerminal, toTimestamp } from '../domain/index.js';
import type { Clock, Logger } from '../lib/index.js';
import { setNewest } from '../lib/index.js';
import type { AgentBook } from './agent-book.js';
import type { AgentCommands } from './agent-commands.js';
import type { Applier, Intent } from './applier/index.js';
import { statusUpdateEvent } from './instance-events.js';

export interface AgentLiveness {
  /**
   * Applies an agent's offer: registers it, kills tasks nobody wants, adopts tasks that came back.
   * `entryId`: its entry on the agent's offers stream (for telling unread offers from none).
   */
  onOffer(offer: OfferMessage, entryId?: string): Promise<void>;
  /** Periodic: expires silent agents and moves unreachable instances along their strategy. */
  tick(): Promise<void>;
  /**
   * A revoked agent: marked unreachable at once and its tasks with it, as if its heartbeats had
   * stopped (they then follow their app's unreachableStrategy). Idempotent.
   */
  onRevoked(agentId: string): Promise<void>;
}

/**
 * A task the master placed but the agent does not list is taken as lost after this long, when
 * the offer does not say whether the agent has read its launch (this master did not send it, or
 * an older agent).
 */
const MISSING_GRACE_MS = 15_000;
/**
 * A launch the agent has not read after this long is taken as lost with its task (Redis lost it,
 * and no later command moved the agent's mark past it). Until then a loaded agent is only behind:
 * replacing its tasks would add launches to the queue it is already behind on.
 */
const UNREAD_LAUNCH_GRACE_MS = 300_000;
/** A task killed here and still listed (not read yet, or still stopping) is killed again this often. */
const KILL_REPEAT_MS = 10_000;
/** Kills remembered, for not sending them again on every offer (oldest forgotten first). */
const REMEMBERED_KILLS = 100_000;
const RUNNING_ON_AGENT: ReadonlySet<Condition> = new Set([
  'Staging',
  'Starting',
  'Running',
  'Killing',
]);

export function createAgentLiveness(options: {
  /** Writes the instances' conditions; its views give apps (unreachable strategies). */
  applier: Applier;
  agents: AgentBook;
  commands: AgentCommands;
  clock: Clock;
  logger: Logger;
  onChange: () => void;
  /**
   * The id of the newest entry on the agent's offers stream, read or not. An agent with offers
   * newer than the newest read is sending: a master behind on reading it must not take it for
   * silent (issue #12: all 10 agents marked unreachable, and their tasks replaced, while their
   * offers waited to be read). Absent: only offers read count.
   */
  newestOfferId?: (agentId: string) => Promise<string | undefined>;
}): AgentLiveness {
  const { applier, agents, commands, clock, logger, onChange } = options;
  const tracker = applier.instances;
  /** Agent → the entry id of the newest offer of it read. */
  const readOfferIds = new Map<string, string>();

  /**
   * Quiet agents with an offer on their stream newer than the newest read count as heard: they
   * are sending, this master is behind on reading. A dead agent's stream ends at what was read.
   */
  async function hearUnreadOffers(newestOfferId: (agentId: string) => Promise<string | undefined>) {
    await Promise.all(
      agents.quiet().map(async ({ agentId }) => {
        const read = readOfferIds.get(agentId);
        if (read === undefined) return;
        const newest = await newestOfferId(agentId);
        if (newest !== undefined && isNewerStreamId(newest, read)) agents.heard(agentId);
      }),
    );
  }

  /** Task → the kill sent for it (entry id, when): an agent lists it until it has read the kill. */
  const kills = new Map<string, { id: string; atMs: number }>();

  /** Whether the agent, as of this offer, has read the command with entry id `id`. */
  const hasRead = (offer: OfferMessage, id: string) =>
    offer.commandsReadTo !== undefined && !isNewerStreamId(id, offer.commandsReadTo);

  /**
   * Kills a task the agent lists that nobody wants, unless a kill was sent that the agent has not
   * read yet (or very recently): an agent behind on its commands lists the same tasks in every
   * offer, and a kill each time buried it under tens of thousands of them (issue #12).
   */
  async function killUnwanted(offer: OfferMessage, taskId: string): Promise<void> {
    const sent = kills.get(taskId);
    const now = clock.now();
    if (
      sent &&
      (now - sent.atMs < KILL_REPEAT_MS || (offer.commandsReadTo && !hasRead(offer, sent.id)))
    )
      return;
    kills.delete(taskId);
    const id = await commands.kill(offer.agentId, taskId);
    setNewest(kills, [taskId, { id, atMs: now }], REMEMBERED_KILLS);
  }

  /**
   * Moves the instances `select` picks (from the state as last applied) to `condition`, with a
   * status event each. Recomputed on a conflict: a status that arrived meanwhile may have ended
   * one of them, and it must not be overwritten.
   */
  async function setCondition(
    select: () => Instance[],
    condition: Condition,
    message?: string,
  ): Promise<Instance[]> {
    let changed: Instance[] = [];
    await applier.update(() => {
      const at = toTimestamp(clock.now());
      const picked = select();
      if (picked.length === 0) return undefined;
      changed = picked.map((i) => ({ ...i, condition, conditionChangedAt: at, message }));
      return {
        source: 'liveness',
        update: changed.map((instance) => ({
          instance,
          revision: tracker.revisionOf(instance.instanceId) ?? -1,
        })),
        events: changed.map((instance) => statusUpdateEvent(instance, { message })),
      } satisfies Intent;
    });
    if (changed.length > 0) onChange();
    return changed;
  }

  /**
   * The instances an agent runs or is about to run. From the index of what each agent holds (a
   * subset of it): every offer asks, and a scan of all instances per offer cost the master more
   * than the statuses of 10,000 launches did (issue #12).
   */
  const lostOn = (agentId: string) =>
    tracker
      .heldOn(agentId)
      .instances.filter((i) => RUNNING_ON_AGENT.has(i.condition) || i.condition === 'Provisioned');

  const isUnreachable = (instance: Instance) =>
    instance.condition === 'Unreachable' || instance.condition === 'UnreachableInactive';

  /** Tasks the agent runs that the master lost track of and that came back: adopt them. */
  const returnedOn = (agentId: string, reported: Set<string>) =>
    [...reported].flatMap((taskId) => {
      const instance = tracker.byTaskId(taskId);
      return instance?.agentId === agentId && isUnreachable(instance) ? [instance] : [];
    });

  /**
   * Placed on the agent but not in its offer: gone (after a grace for launches in flight). A task
   * whose final status is still in the agent's outbox (`endedTaskIds`) is not missing: that
   * status is on its way, and says how it ended.
   */
  const missingOn = (offer: OfferMessage, reported: Set<string>) => {
    const now = clock.now();
    const ended = new Set(offer.endedTaskIds);
    /** Not listed: gone, once the agent has had the launch (it handles commands in order). */
    const isGone = (i: Instance) => {
      // Launched before this agent process started: it did not survive the restart.
      if (Date.parse(i.stagedAt ?? i.conditionChangedAt) < offer.startedAt) return true;
      const sinceMs = now - Date.parse(i.conditionChangedAt);
      const launchId = commands.launchIdOf(currentTaskId(i));
      // The offer may be older than the launch, or the agent behind on its commands: the master's
      // own clock says nothing about either (a 15 s grace replaced 8,500 of 10,000 launches that
      // were still queued, issue #12).
      if (launchId !== undefined && offer.commandsReadTo !== undefined)
        return hasRead(offer, launchId) || sinceMs > UNREAD_LAUNCH_GRACE_MS;
      return sinceMs > MISSING_GRACE_MS;
    };
    return lostOn(offer.agentId).filter((i) => {
      const taskId = currentTaskId(i);
      return !reported.has(taskId) && !ended.has(taskId) && isGone(i);
    });
  };

  /** Instances past their unreachable strategy's deadlines: to inactivate, to expunge. */
  function overdue(now: number) {
    const expunge: Instance[] = [];
    const inactive: Instance[] = [];
    for (const instance of tracker.all()) {
      if (instance.condition !== 'Unreachable' && instance.condition !== 'UnreachableInactive')
        continue;
      const strategy = applier.apps.get(instance.appId)?.unreachableStrategy ?? {
        inactiveAfterSeconds: 0,
        expungeAfterSeconds: 0,
      };
      if (strategy === 'disabled') continue;
      const elapsedMs = now - Date.parse(instance.conditionChangedAt);
      if (elapsedMs >= strategy.expungeAfterSeconds * 1000) expunge.push(instance);
      else if (
        instance.condition === 'Unreachable' &&
        elapsedMs >= strategy.inactiveAfterSeconds * 1000
      )
        inactive.push(instance);
    }
    return { expunge, inactive };
  }

  return {
    async onOffer(offer, entryId) {
      if (entryId !== undefined) readOfferIds.set(offer.agentId, entryId);
      const isBack = await agents.offer(offer);
      const reported = new Set(offer.runningTaskIds);
      // One look-up per listed task (an offer lists every task of its agent, each second).
      const unwanted: string[] = [];
      let isAnyBack = false;
      for (const taskId of reported) {
        const instance = tracker.byTaskId(taskId);
        if (!instance || instance.agentId !== offer.agentId || isTerminal(instance.condition))
          unwanted.push(taskId);
        else if (isUnreachable(instance)) isAnyBack = true;
      }
      // Side by side: one round trip for a thousand of them, not a thousand.
      await Promise.all(unwanted.map((taskId) => killUnwanted(offer, taskId)));
      // Picked again from the state then (`setCondition`); one missed meanwhile comes next offer.
      if (isAnyBack) await setCondition(() => returnedOn(offer.agentId, reported), 'Running');
      const missing = await setCondition(
        () => missingOn(offer, reported),
        'Gone',
        failureMessage('KILLED', 'the agent no longer runs this task'),
      );
      if (missing.length > 0) {
        logger.warn(
          { agentId: offer.agentId, tasks: missing.map(currentTaskId) },
          'agent no longer runs tasks',
        );
      }
      if (isBack) onChange();
    },

    async onRevoked(agentId) {
      const agent = await agents.markUnreachable(agentId);
      await setCondition(
        () => lostOn(agentId),
        'Unreachable',
        `Agent ${agent?.hostname ?? agentId} was revoked`,
      );
    },

    async tick() {
      if (options.newestOfferId) await hearUnreadOffers(options.newestOfferId);
      for (const agent of await agents.expire()) {
        await setCondition(
          () => lostOn(agent.agentId),
          'Unreachable',
          `Agent ${agent.hostname} stopped sending heartbeats`,
        );
      }
      let expunged: Instance[] = [];
      let inactivated: Instance[] = [];
      await applier.update(() => {
        const { expunge, inactive } = overdue(clock.now());
        if (expunge.length === 0 && inactive.length === 0) return undefined;
        expunged = expunge;
        // Inactive keeps its conditionChangedAt from when it became unreachable: expunge counts
        // from there.
        inactivated = inactive.map((i) => ({ ...i, condition: 'UnreachableInactive' as const }));
        const revision = (i: Instance) => tracker.revisionOf(i.instanceId) ?? -1;
        return {
          source: 'liveness',
          update: inactivated.map((instance) => ({ instance, revision: revision(instance) })),
          expunge: expunge.map((i) => ({ instanceId: i.instanceId, revision: revision(i) })),
        };
      });
      if (expunged.length > 0) {
        logger.info(
          { instances: expunged.map((i) => i.instanceId) },
          'expunged unreachable instances',
        );
      }
      if (expunged.length > 0 || inactivated.length > 0) onChange();
    },
  };
}
