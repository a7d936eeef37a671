// The selection stage: walk the seeded-shuffled agents from where the last request stopped,
// keep the best-scoring feasible one, stop after `limit` feasible ones (Nomad's LimitIterator).
import type { AgentSlot } from './placement-state.js';

/** What selection is given. `order` is the plan's shuffled agents; visiting wraps around. */
export interface SelectOptions {
  order: readonly AgentSlot[];
  /** Index in `order` to start from. */
  start: number;
  /** Feasible agents to score before settling. */
  limit: number;
  isFeasible: (agent: AgentSlot) => boolean;
  score: (agent: AgentSlot) => number;
}

export interface Selection {
  /** The best feasible agent seen; undefined when none was feasible. */
  agent: AgentSlot | undefined;
  /** Agents visited (all of them when none was feasible). */
  visited: number;
  /** Where the next request should start. */
  next: number;
}

/**
 * Takes the highest score among the first `limit` feasible agents in `order` from `start`.
 * Ties go to the agent met first, so the seeded order is the tie-break.
 */
export function selectAgent(options: SelectOptions): Selection {
  const { order, limit } = options;
  const n = order.length;
  let best: AgentSlot | undefined;
  let bestScore = -Infinity;
  let feasible = 0;
  let visited = 0;
  while (visited < n && feasible < limit) {
    const agent = order[(options.start + visited) % n] as AgentSlot;
    visited += 1;
    if (!options.isFeasible(agent)) continue;
    feasible += 1;
    const score = options.score(agent);
    if (score > bestScore) {
      best = agent;
      bestScore = score;
    }
  }
  return { agent: best, visited, next: n === 0 ? 0 : (options.start + visited) % n };
}

/**
 * How many feasible agents to score: max(2, ⌈log2 n⌉), Nomad's service-scheduler limit. It
 * holds for constrained apps too: constraints are feasibility checks, so every agent scored
 * already satisfies them, and a request no agent can take still visits all of them. (Nomad
 * scores every agent only for spreads and affinities, soft preferences Pacer does not have.)
 */
export function candidateLimit(agentCount: number): number {
  return Math.max(2, Math.ceil(Math.log2(Math.max(1, agentCount))));
}
