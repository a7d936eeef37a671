// The shape of a feasibility checker, and how a checker records why it said no.
import type { AgentSlot } from '../placement-state.js';
import type { RequestContext } from '../request-context.js';
import type { RejectReason } from '../types.js';

/**
 * Says whether `agent` can take the request. Returns false only after counting one reason with
 * `reject`. Pure apart from that tally; runs once per visited agent per request, so keep it cheap.
 */
export type FeasibilityChecker = (agent: AgentSlot, ctx: RequestContext) => boolean;

/** Counts one refusal and says no: checkers end with `return reject(ctx, 'InsufficientCpus')`. */
export function reject(ctx: RequestContext, reason: RejectReason): false {
  ctx.reasons[reason] = (ctx.reasons[reason] ?? 0) + 1;
  return false;
}

/** Allowance for float sums, e.g. ten 0.1-cpu instances on a 1-cpu agent. */
export const EPSILON = 1e-9;
