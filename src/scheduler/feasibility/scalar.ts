// The scalar resource checks (cpus, memory, disk) over the pools an app may use: unreserved
// resources when it accepts `*`, its role's reservation when it accepts its role.
import type { AgentSlot } from '../placement-state.js';
import type { RequestContext } from '../request-context.js';
import type { RejectReason } from '../types.js';
import { EPSILON, reject } from './checker.js';

type ScalarKey = 'cpus' | 'memMiB' | 'diskMiB';

/** What of `key` the request may take on the agent. */
export function freeFor(agent: AgentSlot, ctx: RequestContext, key: ScalarKey): number {
  let free = ctx.isUnreservedAccepted ? agent[key] : 0;
  if (ctx.reservedRole !== undefined && agent.reserved)
    free += agent.reserved.get(ctx.reservedRole)?.[key] ?? 0;
  return free;
}

/**
 * Accepts when `need` fits in what the request may take; else counts `reason`, or
 * `UnfulfilledRole` when it would fit in resources reserved to other roles (Marathon's reason
 * for offers whose resources have roles the app does not accept).
 */
export function checkScalar(
  agent: AgentSlot,
  ctx: RequestContext,
  check: { key: ScalarKey; need: number; reason: RejectReason },
): boolean {
  const { key, need, reason } = check;
  // The common case first: no reservations, unreserved accepted.
  if (agent.reserved === undefined && ctx.isUnreservedAccepted)
    return need <= agent[key] + EPSILON || reject(ctx, reason);
  if (need <= freeFor(agent, ctx, key) + EPSILON) return true;
  let everything = agent[key];
  for (const pool of agent.reserved?.values() ?? []) everything += pool[key];
  return reject(ctx, need <= everything + EPSILON ? 'UnfulfilledRole' : reason);
}
