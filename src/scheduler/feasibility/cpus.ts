// Feasibility: enough free cpus.
import type { FeasibilityChecker } from './checker.js';
import { EPSILON, reject } from './checker.js';

/** Refuses an agent with fewer free cpus than the app's `cpus`. */
export const checkCpus: FeasibilityChecker = (agent, ctx) =>
  ctx.app.cpus <= agent.cpus + EPSILON || reject(ctx, 'InsufficientCpus');
