// Feasibility: enough free memory.
import type { FeasibilityChecker } from './checker.js';
import { EPSILON, reject } from './checker.js';

/** Refuses an agent with less free memory than the app's `mem` (MiB). */
export const checkMemory: FeasibilityChecker = (agent, ctx) =>
  ctx.app.mem <= agent.memMiB + EPSILON || reject(ctx, 'InsufficientMemory');
