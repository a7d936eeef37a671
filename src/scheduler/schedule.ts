// schedule(snapshot) → Plan: for each request in priority order, the feasibility stage drops
// agents, the rankers score the rest, the selector takes the best; the placement is applied
// to the plan's state before the next request. Pure and deterministic for a given seed.
import type { AppDefinition } from '../domain/index.js';
import { choosePorts } from './choose-ports.js';
import { isFeasible } from './feasibility/index.js';
import { createPlacementState } from './placement-state.js';
import { scoreAgent } from './rank/index.js';
import { seededRandom, shuffled } from './random.js';
import type { PreparedApp } from './request-context.js';
import { createRequestContext, prepareApp } from './request-context.js';
import { candidateLimit, selectAgent } from './select.js';
import type { Placement, Plan, SchedulingSnapshot, Unplaced } from './types.js';

/**
 * Places the snapshot's requests. Each placement consumes the agent's free cpus, memory, disk
 * and ports and counts for the constraints of later requests. A request no agent can take is
 * returned in `unplaced` with how many agents refused it, by reason. Never reads a clock or
 * `Math.random`: the same snapshot (with the same `seed`) always gives the same plan.
 */
export function schedule(snapshot: SchedulingSnapshot): Plan {
  const state = createPlacementState(snapshot.agents, snapshot.instances);
  const order = shuffled(state.slots, seededRandom(snapshot.seed));
  const algorithm = snapshot.algorithm ?? 'binpack';
  const prepared = new Map<AppDefinition, PreparedApp>();
  const placements: Placement[] = [];
  const unplaced: Unplaced[] = [];
  let cursor = 0;

  for (const request of snapshot.requests) {
    const { app } = request;
    let facts = prepared.get(app);
    if (!facts) {
      facts = prepareApp(app);
      prepared.set(app, facts);
    }
    const ctx = createRequestContext(app, facts, state);
    const selection = selectAgent({
      order,
      start: cursor,
      limit: candidateLimit(order.length, ctx.constraints.length > 0),
      isFeasible: (agent) => isFeasible(agent, ctx),
      score: (agent) => scoreAgent(agent, ctx, algorithm),
    });
    cursor = selection.next;
    const agent = selection.agent;
    if (!agent) {
      unplaced.push({
        instanceId: request.instanceId,
        appId: app.id,
        reasons: ctx.reasons,
        agentsEvaluated: selection.visited,
      });
      continue;
    }
    const ports = choosePorts(agent, ctx);
    state.place(agent, app, ports);
    placements.push({
      instanceId: request.instanceId,
      appId: app.id,
      agentId: agent.agent.agentId,
      hostname: agent.agent.hostname,
      ports,
    });
  }
  return { placements, unplaced };
}
