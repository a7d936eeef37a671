// Feasibility: every constraint of the app holds on the agent, counting the app's instances
// already running and those placed earlier in this plan.
import { isConstraintMet } from '../constraint/is-constraint-met.js';
import type { FeasibilityChecker } from './checker.js';
import { reject } from './checker.js';

/** Refuses an agent on which any of the app's constraints fails (`UnfulfilledConstraint`). */
export const checkConstraints: FeasibilityChecker = (agent, ctx) => {
  for (const bound of ctx.constraints) {
    if (!isConstraintMet(bound.constraint, bound.values[agent.index], bound.placed)) {
      return reject(ctx, 'UnfulfilledConstraint');
    }
  }
  return true;
};
