// Feasibility: enough free memory in the pools the app may use.
import type { FeasibilityChecker } from './checker.js';
import { EPSILON, reject } from './checker.js';
import { checkScalar } from './scalar.js';

/** Refuses an agent with less free memory than the app's `mem` (MiB). */
export const checkMemory: FeasibilityChecker = (agent, ctx) =>
  agent.reserved === undefined && ctx.isUnreservedAccepted
    ? ctx.app.mem <= agent.memMiB + EPSILON || reject(ctx, 'InsufficientMemory')
    : checkScalar(agent, ctx, { key: 'memMiB', need: ctx.app.mem, reason: 'InsufficientMemory' });
