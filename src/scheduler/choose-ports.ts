// Host port choice for a placement: one port per port definition.
import { withoutPorts } from '../domain/index.js';
import type { AgentSlot } from './placement-state.js';
import type { RequestContext } from './request-context.js';

/**
 * The host ports the app gets on `slot`, in port-definition order: with `requirePorts` the
 * literal non-zero ports, otherwise (and for port 0) the lowest free ports. Call only on an
 * agent the ports checker accepted; throws if the ports are not there (a broken invariant).
 */
export function choosePorts(slot: AgentSlot, ctx: RequestContext): number[] {
  const definitions = ctx.app.portDefinitions ?? [];
  if (definitions.length === 0) return [];
  const free =
    ctx.literalPorts.length > 0 ? withoutPorts(slot.ports, ctx.literalPorts) : slot.ports;
  const dynamic: number[] = [];
  for (const [begin, end] of free) {
    for (let port = begin; port <= end && dynamic.length < ctx.dynamicPorts; port++) {
      dynamic.push(port);
    }
    if (dynamic.length === ctx.dynamicPorts) break;
  }
  if (dynamic.length < ctx.dynamicPorts) {
    throw new Error(`No free port left on agent ${slot.agent.agentId}`);
  }
  if (ctx.literalPorts.length === 0) return dynamic;
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
