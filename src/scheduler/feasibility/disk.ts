// Feasibility: enough free disk in the pools the app may use.
import type { FeasibilityChecker } from './checker.js';
import { EPSILON, reject } from './checker.js';
import { checkScalar } from './scalar.js';

/** Refuses an agent with less free disk than the app's `disk` (MiB). */
export const checkDisk: FeasibilityChecker = (agent, ctx) =>
  agent.reserved === undefined && ctx.isUnreservedAccepted
    ? ctx.app.disk <= agent.diskMiB + EPSILON || reject(ctx, 'InsufficientDisk')
    : checkScalar(agent, ctx, { key: 'diskMiB', need: ctx.app.disk, reason: 'InsufficientDisk' });
