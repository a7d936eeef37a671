// Feasibility: the host ports the app's port definitions need are free.
import type { FeasibilityChecker } from './checker.js';
import { reject } from './checker.js';

/**
 * Refuses an agent lacking a literal port (`requirePorts`) or enough free ports for the rest.
 * An app without port definitions needs none.
 */
export const checkPorts: FeasibilityChecker = (agent, ctx) => {
  const literal = ctx.literalPorts;
  if (literal.length === 0) {
    return ctx.dynamicPorts <= agent.freePortCount || reject(ctx, 'InsufficientPorts');
  }
  for (const port of literal) {
    if (!agent.ports.some(([begin, end]) => port >= begin && port <= end)) {
      return reject(ctx, 'InsufficientPorts');
    }
  }
  return (
    ctx.dynamicPorts + literal.length <= agent.freePortCount || reject(ctx, 'InsufficientPorts')
  );
};
