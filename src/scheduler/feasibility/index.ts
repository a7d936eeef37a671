// The feasibility stage: checkers in order, cheapest first; the first refusal wins.
import type { AgentSlot } from '../placement-state.js';
import type { RequestContext } from '../request-context.js';
import { checkAgentActive } from './agent-active.js';
import { checkCapability } from './capability.js';
import type { FeasibilityChecker } from './checker.js';
import { checkConstraints } from './constraints.js';
import { checkCpus } from './cpus.js';
import { checkDisk } from './disk.js';
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
  checkConstraints,
];

/** True when every checker accepts; else false with exactly one reason counted in `ctx`. */
export function isFeasible(agent: AgentSlot, ctx: RequestContext): boolean {
  for (const check of feasibilityCheckers) if (!check(agent, ctx)) return false;
  return true;
}
