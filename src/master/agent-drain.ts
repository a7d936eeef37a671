// Draining an agent (Mesos's maintenance mode): the operator asks, the applier stores it, the
// evaluation pass stops placing there and replaces the agent's instances elsewhere under each
// app's upgrade strategy (evaluation/drain.ts); the agent is drained once nothing runs on it.
import type { Instance } from '../domain/index.js';
import { NotFoundError, isTerminal, toTimestamp } from '../domain/index.js';
import type { Clock, Logger } from '../lib/index.js';
import type { AgentBook } from './agent-book.js';
import type { Applier } from './applier/index.js';

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
  /** Asks for a pass over these apps. */
  onChange: (appIds: string[]) => void;
}): AgentDrain {
  const { applier, agents, clock, logger, onChange } = options;

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
      return stateOf(agentId) ?? { state: 'draining', since: known ?? '' };
    },

    async undrain(agentId) {
      if (applier.drains.since(agentId) === undefined) return;
      await applier.update(() =>
        applier.drains.since(agentId) === undefined
          ? undefined
          : { source: 'orchestrator', drains: [{ agentId, since: null }] },
      );
      logger.info({ agentId }, 'agent back in service');
      // Apps waiting for an agent may fit here again.
      onChange([]);
    },

    stateOf,
  };
}
