// Keeps the master's instances true to what agents report: adopts and kills on each offer,
// marks tasks of silent or revoked agents unreachable, replaces and expunges them per
// unreachableStrategy. Offers reach it only from their own agent's stream (agent-reports.ts), so
// an offer can mark missing only the tasks of the agent that sent it.
import type { OfferMessage } from '../bus/index.js';
import type { Condition, Instance } from '../domain/index.js';
import {
  currentTaskId,
  failureMessage,
  isTerminal,
  toMesosState,
  toTimestamp,
} from '../domain/index.js';
import type { Clock, Logger } from '../lib/index.js';
import type { AppCache } from './app-cache.js';
import type { AgentBook } from './agent-book.js';
import type { AgentCommands } from './agent-commands.js';
import type { InstanceTracker } from './instance-tracker.js';
import type { EventHub } from './services.js';

export interface AgentLiveness {
  /** Applies an agent's offer: registers it, kills tasks nobody wants, adopts tasks that came back. */
  onOffer(offer: OfferMessage): Promise<void>;
  /** Periodic: expires silent agents and moves unreachable instances along their strategy. */
  tick(): Promise<void>;
  /**
   * A revoked agent: marked unreachable at once and its tasks with it, as if its heartbeats had
   * stopped (they then follow their app's unreachableStrategy). Idempotent.
   */
  onRevoked(agentId: string): Promise<void>;
}

/** A task the master placed but the agent does not list is taken as lost after this long. */
const MISSING_GRACE_MS = 15_000;
const RUNNING_ON_AGENT: ReadonlySet<Condition> = new Set([
  'Staging',
  'Starting',
  'Running',
  'Killing',
]);

export function createAgentLiveness(options: {
  /** The leader's apps (unreachable strategies). */
  cache: AppCache;
  agents: AgentBook;
  tracker: InstanceTracker;
  commands: AgentCommands;
  events: EventHub;
  clock: Clock;
  logger: Logger;
  onChange: () => void;
}): AgentLiveness {
  const { cache, agents, tracker, commands, events, clock, logger, onChange } = options;

  async function setCondition(instances: Instance[], condition: Condition, message?: string) {
    if (instances.length === 0) return;
    const at = toTimestamp(clock.now());
    const changed = instances.map((i) => ({ ...i, condition, conditionChangedAt: at, message }));
    await tracker.put(changed);
    for (const instance of changed) {
      await events.emit({
        eventType: 'status_update_event',
        slaveId: instance.agentId ?? '',
        taskId: currentTaskId(instance),
        taskStatus: toMesosState(condition),
        message: message ?? '',
        appId: instance.appId,
        host: instance.host ?? '',
        ipAddresses: [],
        ports: instance.ports,
        version: instance.appVersion,
      });
    }
    onChange();
  }

  /** The instances an agent runs or is about to run. */
  const lostOn = (agentId: string) =>
    tracker
      .all()
      .filter(
        (i) =>
          i.agentId === agentId &&
          (RUNNING_ON_AGENT.has(i.condition) || i.condition === 'Provisioned'),
      );

  return {
    async onOffer(offer) {
      const isBack = await agents.offer(offer);
      const reported = new Set(offer.runningTaskIds);
      const adopt: Instance[] = [];
      for (const taskId of reported) {
        const instance = tracker.byTaskId(taskId);
        if (!instance || instance.agentId !== offer.agentId || isTerminal(instance.condition)) {
          await commands.kill(offer.agentId, taskId);
        } else if (
          instance.condition === 'Unreachable' ||
          instance.condition === 'UnreachableInactive'
        ) {
          adopt.push(instance);
        }
      }
      await setCondition(adopt, 'Running');
      const now = clock.now();
      const missing = tracker.all().filter(
        (i) =>
          i.agentId === offer.agentId &&
          (RUNNING_ON_AGENT.has(i.condition) || i.condition === 'Provisioned') &&
          !reported.has(currentTaskId(i)) &&
          // Launched before this agent process started: it did not survive the restart.
          (Date.parse(i.stagedAt ?? i.conditionChangedAt) < offer.startedAt ||
            now - Date.parse(i.conditionChangedAt) > MISSING_GRACE_MS),
      );
      if (missing.length > 0) {
        logger.warn(
          { agentId: offer.agentId, tasks: missing.map(currentTaskId) },
          'agent no longer runs tasks',
        );
        await setCondition(
          missing,
          'Gone',
          failureMessage('KILLED', 'the agent no longer runs this task'),
        );
      }
      if (isBack) onChange();
    },

    async onRevoked(agentId) {
      const agent = await agents.markUnreachable(agentId);
      await setCondition(
        lostOn(agentId),
        'Unreachable',
        `Agent ${agent?.hostname ?? agentId} was revoked`,
      );
    },

    async tick() {
      for (const agent of await agents.expire()) {
        await setCondition(
          lostOn(agent.agentId),
          'Unreachable',
          `Agent ${agent.hostname} stopped sending heartbeats`,
        );
      }
      const now = clock.now();
      const expunge: string[] = [];
      const inactive: Instance[] = [];
      for (const instance of tracker.all()) {
        if (instance.condition !== 'Unreachable' && instance.condition !== 'UnreachableInactive')
          continue;
        const strategy = cache.get(instance.appId)?.unreachableStrategy ?? {
          inactiveAfterSeconds: 0,
          expungeAfterSeconds: 0,
        };
        if (strategy === 'disabled') continue;
        const elapsedMs = now - Date.parse(instance.conditionChangedAt);
        if (elapsedMs >= strategy.expungeAfterSeconds * 1000) expunge.push(instance.instanceId);
        else if (
          instance.condition === 'Unreachable' &&
          elapsedMs >= strategy.inactiveAfterSeconds * 1000
        )
          inactive.push(instance);
      }
      // Inactive keeps its conditionChangedAt from when it became unreachable: expunge counts from there.
      if (inactive.length > 0) {
        await tracker.put(
          inactive.map((i) => ({ ...i, condition: 'UnreachableInactive' as const })),
        );
        onChange();
      }
      if (expunge.length > 0) {
        logger.info({ instances: expunge }, 'expunged unreachable instances');
        await tracker.remove(expunge);
        onChange();
      }
    },
  };
}
