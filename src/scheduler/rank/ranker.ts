// The shape of a ranker: one score component per feasible agent.
import type { AgentSlot } from '../placement-state.js';
import type { RequestContext } from '../request-context.js';

/**
 * Scores placing the request on a feasible `agent`, in [-1, 1] (higher is better), or returns
 * undefined to abstain. Pure; never changes `agent` or `ctx`.
 */
export type Ranker = (agent: AgentSlot, ctx: RequestContext) => number | undefined;

/** Share of `total` left free after taking `used` from `free`, clamped to [0, 1]. */
export function freeShareAfter(free: number, used: number, total: number): number {
  if (!(total > 0)) return 0;
  const share = (free - used) / total;
  return share < 0 ? 0 : share > 1 ? 1 : share;
}
