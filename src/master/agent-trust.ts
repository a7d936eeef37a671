// What the master refuses to believe from agents: messages dropped per agent and reason, counted
// for `/metrics` and logged once per (agent, reason), since a hostile agent can send millions.
import type { Logger } from '../lib/index.js';
import type { TaskCounter } from './task-metrics.js';

/** Why a message from an agent was dropped. */
export const DropReason = {
  /** Not JSON, or not the shape its stream carries (zod, at the bus boundary). */
  INVALID: 'invalid',
  /** Names an agent id other than the one whose stream carried it. */
  FOREIGN_AGENT: 'foreign_agent',
  /** About a task the master placed on another agent. */
  FOREIGN_TASK: 'foreign_task',
} as const;
export type DropReason = (typeof DropReason)[keyof typeof DropReason];

export interface AgentTrust {
  /** Counts one dropped message of `agentId`; logs the first of each (agent, reason). */
  drop(options: { agentId: string; reason: DropReason; detail?: Record<string, unknown> }): void;
  /** How many messages of `agentId` were dropped for `reason`. */
  dropped(agentId: string, reason: DropReason): number;
  /** The counters, as `/metrics` renders them. */
  counters(): TaskCounter[];
}

export function createAgentTrust(options: { logger: Logger }): AgentTrust {
  const logger = options.logger.child({ component: 'agent-trust' });
  const counts = new Map<string, { agentId: string; reason: DropReason; value: number }>();
  const keyOf = (agentId: string, reason: DropReason) => `${agentId}\n${reason}`;
  return {
    drop({ agentId, reason, detail }) {
      const key = keyOf(agentId, reason);
      const entry = counts.get(key);
      if (entry) {
        entry.value++;
        return;
      }
      counts.set(key, { agentId, reason, value: 1 });
      logger.warn(
        { agentId, reason, ...detail },
        'dropped a message from an agent (logged once per agent and reason; see /metrics)',
      );
    },
    dropped: (agentId, reason) => counts.get(keyOf(agentId, reason))?.value ?? 0,
    counters: () =>
      [...counts.values()]
        .map(({ agentId, reason, value }): TaskCounter => ({
          name: 'agent_messages_dropped_total',
          labels: { agent_id: agentId, reason },
          value,
        }))
        .sort((a, b) => JSON.stringify(a.labels).localeCompare(JSON.stringify(b.labels))),
  };
}
