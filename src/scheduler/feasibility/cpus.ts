// Feasibility: enough free cpus in the pools the app may use.
import type { FeasibilityChecker } from './checker.js';
import { EPSILON, reject } from './checker.js';
import { checkScalar } from './scalar.js';

/** Refuses an agent with fewer free cpus than the app's `cpus`. */
export const checkCpus: FeasibilityChecker = (agent, ctx) =>
  agent.reserved === undefined && ctx.isUnreservedAccepted
    ? ctx.app.cpus <= agent.cpus + EPSILON || reject(ctx, 'InsufficientCpus')
    : checkScalar(agent, ctx, { key: 'cpus', need: ctx.app.cpus, reason: 'InsufficientCpus' });
