// Ranker: prefer the agent left emptiest after the placement (Nomad's `ScoreFitSpread`).
import type { Ranker } from './ranker.js';
import { freeShareAfter } from './ranker.js';

/** 1 when the agent stays empty, 0 when cpus and memory end up fully used. */
export const rankSpread: Ranker = (agent, ctx) => {
  const { total } = agent.agent;
  const cpu = freeShareAfter(agent.cpus, ctx.app.cpus, total.cpus);
  const mem = freeShareAfter(agent.memMiB, ctx.app.mem, total.memMiB);
  return (Math.exp(cpu * Math.LN10) + Math.exp(mem * Math.LN10) - 2) / 18;
};
