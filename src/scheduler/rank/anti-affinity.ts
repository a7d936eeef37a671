// Ranker: keep an app's instances apart (Nomad's job anti-affinity), so bin-packing does not
// put every instance of one app on the same agent.
import type { Ranker } from './ranker.js';

/** Abstains on an agent without the app's instances; else −(instances there + 1) / wanted. */
export const rankAntiAffinity: Ranker = (agent, ctx) => {
  const collisions = ctx.usage.perAgent.get(agent.agent.agentId) ?? 0;
  if (collisions === 0) return undefined;
  return Math.max(-1, -(collisions + 1) / Math.max(1, ctx.app.instances));
};
