// Feasibility: the agent must run the app's task kind (wasm, command or container).
import type { FeasibilityChecker } from './checker.js';
import { reject } from './checker.js';

/**
 * Refuses an agent that lacks the app's task kind. Marathon has no capability reason; the kind
 * acts like a role the agent's resources are reserved for, hence `UnfulfilledRole`.
 */
export const checkCapability: FeasibilityChecker = (agent, ctx) =>
  (agent.kindMask & ctx.kindBit) !== 0 || reject(ctx, 'UnfulfilledRole');
