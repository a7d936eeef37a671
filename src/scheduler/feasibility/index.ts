// The feasibility stage: checkers in order, cheapest first; the first refusal wins.
import type { AgentSlot } from '../placement-state.js';
import type { RequestContext } from '../request-context.js';
import { checkAgentActive } from './agent-active.js';
import { checkCapability } from './capability.js';
import type { FeasibilityChecker } from './checker.js';
import { checkConstraints } from './constraints.js';
import { checkCpus } from './cpus.js';
import { checkDisk } from './disk.js';
import { checkHostAccess } from './host-access.js';
import { checkMemory } from './memory.js';
import { checkPorts } from './ports.js';

export type { FeasibilityChecker } from './checker.js';
export { reject } from './checker.js';

/** Every checker, in the order they run (cheap before costly). */
export const feasibilityCheckers: readonly FeasibilityChecker[] = [
  checkAgentActive,
  checkCapability,
  checkCpus,
  checkMemory,
  checkDisk,
  checkPorts,
  checkHostAccess,
  checkConstraints,
];

/**
 * The checkers that can refuse this request, in order: the ports checker only when the app
 * needs ports, the constraints checker only when it has constraints. The same for every
 * request of one app, so callers compute it once per app.
 */
export function checkersFor(ctx: RequestContext): readonly FeasibilityChecker[] {
  const needsPorts = ctx.literalPorts.length + ctx.dynamicPorts > 0;
  return feasibilityCheckers.filter(
    (check) =>
      (check !== checkPorts || needsPorts) &&
      (check !== checkHostAccess || ctx.hostAccessNeeds !== undefined) &&
      (check !== checkConstraints || ctx.constraints.length > 0),
  );
}

/**
 * True when every checker accepts; else false with exactly one reason counted in `ctx`.
 * `checkers` defaults to all of them; pass `checkersFor(ctx)` to skip those that cannot refuse.
 */
export function isFeasible(
  agent: AgentSlot,
  ctx: RequestContext,
  checkers: readonly FeasibilityChecker[] = feasibilityCheckers,
): boolean {
  for (const check of checkers) if (!check(agent, ctx)) return false;
  return true;
}
