// Ranker: prefer the agent left fullest after the placement (Nomad's `ScoreFitBinPack`).
import type { Ranker } from './ranker.js';
import { freeShareAfter } from './ranker.js';

/** 1 when cpus and memory end up fully used, 0 when the agent stays empty. */
export const rankBinpack: Ranker = (agent, ctx) => {
  const { total } = agent.agent;
  const cpu = freeShareAfter(agent.cpus, ctx.app.cpus, total.cpus);
  const mem = freeShareAfter(agent.memMiB, ctx.app.mem, total.memMiB);
  return (20 - (Math.exp(cpu * Math.LN10) + Math.exp(mem * Math.LN10))) / 18;
};
