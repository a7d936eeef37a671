// The ranking stage: the algorithm's fit ranker plus anti-affinity, averaged (Nomad's
// score normalization), so every agent's score lies in [-1, 1].
import type { AgentSlot } from '../placement-state.js';
import type { RequestContext } from '../request-context.js';
import { rankAntiAffinity } from './anti-affinity.js';
import { rankBinpack } from './binpack.js';
import type { Ranker } from './ranker.js';
import { rankSpread } from './spread.js';

export type { Ranker } from './ranker.js';

/** How agents are preferred: pack them full first, or spread the load. */
export type RankAlgorithm = 'binpack' | 'spread';

const RANKERS: Record<RankAlgorithm, readonly Ranker[]> = {
  binpack: [rankBinpack, rankAntiAffinity],
  spread: [rankSpread, rankAntiAffinity],
};

/** The mean of the components of every ranker that does not abstain. */
export function scoreAgent(
  agent: AgentSlot,
  ctx: RequestContext,
  algorithm: RankAlgorithm,
): number {
  let sum = 0;
  let count = 0;
  for (const rank of RANKERS[algorithm]) {
    const score = rank(agent, ctx);
    if (score === undefined) continue;
    sum += score;
    count += 1;
  }
  return count === 0 ? 0 : sum / count;
}
