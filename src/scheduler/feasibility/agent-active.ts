// Feasibility: only an agent that is heard from (active) takes work.
import type { FeasibilityChecker } from './checker.js';
import { reject } from './checker.js';

/** Refuses an unreachable agent (`AgentMaintenance`: the agent cannot take offers now). */
export const checkAgentActive: FeasibilityChecker = (agent, ctx) =>
  agent.isActive || reject(ctx, 'AgentMaintenance');
