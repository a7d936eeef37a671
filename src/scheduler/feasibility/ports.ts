// Feasibility: the host ports the app's port definitions need are free, in the port pools it may
// use: unreserved ports when it accepts `*`, its role's reserved ports when it accepts its role.
import { isPortInRanges } from '../../domain/index.js';
import type { AgentSlot, PortPool } from '../placement-state.js';
import type { RequestContext } from '../request-context.js';
import type { FeasibilityChecker } from './checker.js';
import { reject } from './checker.js';

/**
 * The port pools the request may take from on `agent`, in the order ports are taken: its role's
 * reservation first (as for cpus and memory), then unreserved ports.
 */
export function portPoolsFor(agent: AgentSlot, ctx: RequestContext): PortPool[] {
  const pools: PortPool[] = [];
  const own = ctx.reservedRole !== undefined ? agent.reserved?.get(ctx.reservedRole) : undefined;
  if (own && own.freePortCount > 0) pools.push(own);
  if (ctx.isUnreservedAccepted) pools.push(agent);
  return pools;
}

/** Whether the pools together hold every literal port and enough ports for the rest. */
function fitsIn(pools: readonly PortPool[], ctx: RequestContext): boolean {
  let free = 0;
  for (const pool of pools) free += pool.freePortCount;
  if (ctx.dynamicPorts + ctx.literalPorts.length > free) return false;
  return ctx.literalPorts.every((port) => pools.some((pool) => isPortInRanges(port, pool.ports)));
}

/**
 * Refuses an agent lacking a literal port (`requirePorts`) or enough free ports for the rest:
 * `UnfulfilledRole` when the ports are there but reserved to another role (or, for an app that
 * accepts only its role, unreserved), else `InsufficientPorts`. An app without port
 * definitions needs none.
 */
export const checkPorts: FeasibilityChecker = (agent, ctx) => {
  // The common case first: no reservations, unreserved accepted, no literal port.
  if (agent.reserved === undefined && ctx.isUnreservedAccepted && ctx.literalPorts.length === 0)
    return ctx.dynamicPorts <= agent.freePortCount || reject(ctx, 'InsufficientPorts');
  if (fitsIn(portPoolsFor(agent, ctx), ctx)) return true;
  const everything: PortPool[] = [agent, ...(agent.reserved?.values() ?? [])];
  return reject(ctx, fitsIn(everything, ctx) ? 'UnfulfilledRole' : 'InsufficientPorts');
};
