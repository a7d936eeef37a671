// Draining an agent (Mesos's maintenance mode): the operator asks, the applier stores it, the
// evaluation pass stops placing there and replaces the agent's instances elsewhere under each
// app's upgrade strategy (evaluation/drain.ts); the agent is drained once nothing runs on it,
// and the leader then emits Pacer's `agent_drained_event` (once per drain and leader term).
import type { Instance } from '../domain/index.js';
import { NotFoundError, isTerminal, toTimestamp } from '../domain/index.js';
import type { Clock, Logger } from '../lib/index.js';
import type { AgentBook } from './agent-book.js';
import type { Applier } from './applier/index.js';
import type { EventHub } from './services.js';

/** Pacer's own event type (Marathon's naming): a draining agent has nothing left on it. */
export const AGENT_DRAINED_EVENT = 'agent_drained_event';

/** `draining`: asked, instances still on it; `drained`: asked and empty. */
export type DrainState = 'draining' | 'drained';

export interface AgentDrain {
  /**
   * Puts a known agent in maintenance (stored before it resolves) and kicks the apps running on
   * it. Idempotent: draining a draining agent keeps its first `since`. Throws NotFoundError for
   * an agent the master never heard of.
   */
  drain(agentId: string): Promise<{ state: DrainState; since: string }>;
  /** Takes the agent out of maintenance; it takes placements again. Idempotent. */
  undrain(agentId: string): Promise<void>;
  /** The agent's drain, or undefined when it is not in maintenance. */
  stateOf(agentId: string): { state: DrainState; since: string } | undefined;
  /**
   * Checks one agent (called after each of its offers and after a drain): the first time a
   * drain is seen drained, emits `agent_drained_event` `{agentId, hostname, since}`. Idempotent
   * per drain: a later drain of the same agent (new `since`) is reported again; a new leader may
   * report a drain a second time (it does not know what the last one emitted).
   */
  observe(agentId: string): void;
}

/** Holds resources or may still run on its agent: not ended, placed. */
function isOnAgent(instance: Instance, agentId: string): boolean {
  return (
    instance.agentId === agentId &&
    !isTerminal(instance.condition) &&
    instance.condition !== 'Scheduled'
  );
}

export function createAgentDrain(options: {
  applier: Applier;
  agents: AgentBook;
  clock: Clock;
  logger: Logger;
  /** Where `agent_drained_event` goes. */
  events: Pick<EventHub, 'emit'>;
  /** Asks for a pass over these apps. */
  onChange: (appIds: string[]) => void;
}): AgentDrain {
  const { applier, agents, clock, logger, events, onChange } = options;
  /** Agent → the `since` of the drain already reported drained (one entry per draining agent). */
  const reported = new Map<string, string>();

  const appsOn = (agentId: string) => [
    ...new Set(
      applier.instances
        .all()
        .filter((i) => isOnAgent(i, agentId))
        .map((i) => i.appId),
    ),
  ];

  function stateOf(agentId: string): { state: DrainState; since: string } | undefined {
    const since = applier.drains.since(agentId);
    if (since === undefined) return undefined;
    const isBusy =
      applier.instances.all().some((i) => isOnAgent(i, agentId)) ||
      (agents.get(agentId)?.runningTaskIds.length ?? 0) > 0;
    return { state: isBusy ? 'draining' : 'drained', since };
  }

  function observe(agentId: string): void {
    const drain = stateOf(agentId);
    if (!drain) {
      reported.delete(agentId);
      return;
    }
    if (drain.state !== 'drained' || reported.get(agentId) === drain.since) return;
    reported.set(agentId, drain.since);
    logger.info({ agentId, since: drain.since }, 'agent drained');
    events
      .emit({
        eventType: AGENT_DRAINED_EVENT,
        agentId,
        hostname: agents.get(agentId)?.hostname ?? '',
        since: drain.since,
      })
      .catch((error: unknown) =>
        logger.error({ err: error, agentId }, 'agent_drained_event failed'),
      );
  }

  return {
    async drain(agentId) {
      if (!agents.get(agentId)) throw new NotFoundError(`Agent '${agentId}' does not exist`);
      const known = applier.drains.since(agentId);
      if (known === undefined) {
        const since = toTimestamp(clock.now());
        await applier.update(() =>
          applier.drains.since(agentId) === undefined
            ? { source: 'orchestrator', drains: [{ agentId, since }] }
            : undefined,
        );
        logger.info({ agentId }, 'agent draining');
      }
      onChange(appsOn(agentId));
      observe(agentId);
      return stateOf(agentId) ?? { state: 'draining', since: known ?? '' };
    },

    async undrain(agentId) {
      if (applier.drains.since(agentId) === undefined) return;
      await applier.update(() =>
        applier.drains.since(agentId) === undefined
          ? undefined
          : { source: 'orchestrator', drains: [{ agentId, since: null }] },
      );
      reported.delete(agentId);
      logger.info({ agentId }, 'agent back in service');
      // Apps waiting for an agent may fit here again.
      onChange([]);
    },

    stateOf,
    observe,
  };
}
