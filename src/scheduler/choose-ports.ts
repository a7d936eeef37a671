// Host port choice for a placement: one port per port definition.
import type { PortRange } from '../domain/index.js';
import { isPortInRanges } from '../domain/index.js';
import { portPoolsFor } from './feasibility/ports.js';
import type { AgentSlot, PortPool } from './placement-state.js';
import type { RequestContext } from './request-context.js';

/**
 * The host ports the app gets on `slot`, in port-definition order: with `requirePorts` the
 * literal non-zero ports, otherwise (and for port 0) the lowest free ports of the pools it may
 * use, its role's reserved ports before unreserved ones. Call only on an agent the ports checker
 * accepted; throws if the ports are not there (a broken invariant).
 */
export function choosePorts(slot: AgentSlot, ctx: RequestContext): number[] {
  const definitions = ctx.app.portDefinitions ?? [];
  if (definitions.length === 0) return [];
  const literalPorts = ctx.literalPorts;
  // The common case (no reservation here, unreserved accepted): the unreserved pool alone.
  const pools: readonly PortPool[] =
    slot.reserved === undefined && ctx.isUnreservedAccepted ? [slot] : portPoolsFor(slot, ctx);
  const dynamic: number[] = [];
  for (const pool of pools) {
    takeLowest(pool.ports, { count: ctx.dynamicPorts, skip: literalPorts }, dynamic);
    if (dynamic.length === ctx.dynamicPorts) break;
  }
  if (dynamic.length < ctx.dynamicPorts) {
    throw new Error(`No free port left on agent ${slot.agent.agentId}`);
  }
  if (literalPorts.length === 0) return dynamic;
  for (const port of literalPorts) {
    if (!pools.some((pool) => isPortInRanges(port, pool.ports)))
      throw new Error(`Port ${port} is not free on agent ${slot.agent.agentId}`);
  }
  const literal = new Set<number>();
  let next = 0;
  const chosen: number[] = [];
  for (const definition of definitions) {
    if (ctx.app.requirePorts && definition.port !== 0 && !literal.has(definition.port)) {
      literal.add(definition.port);
      chosen.push(definition.port);
      continue;
    }
    const port = dynamic[next++];
    if (port === undefined) throw new Error(`No free port left on agent ${slot.agent.agentId}`);
    chosen.push(port);
  }
  return chosen;
}

/** Adds the lowest ports of `ranges` to `out` until it holds `count`, leaving out `skip`. */
function takeLowest(
  ranges: readonly PortRange[],
  want: { count: number; skip: readonly number[] },
  out: number[],
): void {
  for (const [begin, end] of ranges) {
    for (let port = begin; port <= end && out.length < want.count; port++) {
      if (want.skip.length > 0 && want.skip.includes(port)) continue;
      out.push(port);
    }
    if (out.length === want.count) return;
  }
}
