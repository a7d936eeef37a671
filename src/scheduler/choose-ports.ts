// Host port choice for a placement: one port per port definition.
import { isPortInRanges } from '../domain/index.js';
import { portPoolsFor } from './feasibility/ports.js';
import type { AgentSlot } from './placement-state.js';
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
  const pools = portPoolsFor(slot, ctx);
  const dynamic: number[] = [];
  for (const pool of pools) {
    for (const [begin, end] of pool.ports) {
      for (let port = begin; port <= end && dynamic.length < ctx.dynamicPorts; port++) {
        if (literalPorts.length > 0 && literalPorts.includes(port)) continue;
        dynamic.push(port);
      }
      if (dynamic.length === ctx.dynamicPorts) break;
    }
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
