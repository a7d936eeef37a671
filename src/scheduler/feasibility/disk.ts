// Feasibility: enough free disk.
import type { FeasibilityChecker } from './checker.js';
import { EPSILON, reject } from './checker.js';

/** Refuses an agent with less free disk than the app's `disk` (MiB). */
export const checkDisk: FeasibilityChecker = (agent, ctx) =>
  ctx.app.disk <= agent.diskMiB + EPSILON || reject(ctx, 'InsufficientDisk');
