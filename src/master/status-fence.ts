// Puts each agent's status updates in order and lets each through once, by the `prev` its outbox
// gives them (agent/status-outbox.ts): an update is applied only after the one the agent sent
// before it. A replay after a disconnect brings duplicates (skipped) and, when Redis lost some
// entries, updates whose predecessor never arrived (skipped too, not acknowledged: the agent
// sends them again, in order, when no acknowledgement comes).
//
// What was applied is remembered in memory while this master leads. A new leader knows nothing:
// it takes an update whose predecessor the agent says was acknowledged (`acked`, by any master),
// so it starts at the head of the agent's outbox; what it applies again there is ignored by the
// instances' own sequence numbers (stored with them). A gap asks the agent to resend at once
// (agent-reports.ts asks once per gap, not once per batch that shows it).
import type { StatusMessage } from '../bus/index.js';

export interface StatusFence {
  /**
   * Which of one agent's updates (in stream order) to apply now. Changes nothing until `commit`,
   * called once they are applied: a batch that fails comes back and is admitted again.
   */
  admit(
    agentId: string,
    messages: StatusMessage[],
  ): {
    admitted: StatusMessage[];
    /** Some updates came before their predecessor: the agent should send its outbox again. */
    hasGap: boolean;
    /** Records them as applied; returns the sequence number to acknowledge (none: no outbox). */
    commit(): number | undefined;
  };
  /** The `seq` of the last update applied from the agent (committed), if any. */
  applied(agentId: string): number | undefined;
  /** Forgets an agent (no longer read). Idempotent. */
  forget(agentId: string): void;
  /** Forgets every agent (leadership starts again). */
  clear(): void;
}

export function createStatusFence(): StatusFence {
  /** Agent → the `seq` of the last update applied from it. */
  const applied = new Map<string, number>();

  return {
    admit(agentId, messages) {
      let last = applied.get(agentId);
      let hasOutbox = false;
      let hasGap = false;
      const admitted: StatusMessage[] = [];
      for (const message of messages) {
        // An agent without an outbox (older, or the in-process one before it): as it comes.
        if (message.prev === undefined) {
          admitted.push(message);
          continue;
        }
        hasOutbox = true;
        if (last !== undefined && message.seq <= last) continue;
        // Its predecessor: applied here, or acknowledged (so applied) by some master.
        const isNext =
          (last !== undefined && message.prev <= last) ||
          (message.acked !== undefined && message.prev <= message.acked);
        if (!isNext) {
          hasGap = true;
          continue;
        }
        admitted.push(message);
        last = message.seq;
      }
      return {
        admitted,
        hasGap,
        commit() {
          if (!hasOutbox || last === undefined) return undefined;
          applied.set(agentId, last);
          return last;
        },
      };
    },

    applied: (agentId) => applied.get(agentId),
    forget: (agentId) => void applied.delete(agentId),
    clear: () => applied.clear(),
  };
}
