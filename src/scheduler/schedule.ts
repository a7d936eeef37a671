// schedule(snapshot) → Plan: for each request in priority order, the feasibility stage drops
// agents, the rankers score the rest, the selector takes the best; the placement is applied
// to the plan's state before the next request. Pure and deterministic for a given seed.
import type { AppDefinition } from '../domain/index.js';
import { roleOf } from '../domain/index.js';
import { choosePorts } from './choose-ports.js';
import type { FeasibilityChecker } from './feasibility/index.js';
import { checkersFor, isFeasible } from './feasibility/index.js';
import { createRequestQueue } from './fair-share.js';
import { createFairShareLosses } from './fair-share-losses.js';
import { createPlacementState } from './placement-state.js';
import { scoreAgent } from './rank/index.js';
import { seededRandom, shuffled } from './random.js';
import type { RequestContext } from './request-context.js';
import { bindApp, createRequestContext } from './request-context.js';
import type { SelectOptions } from './select.js';
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
  const bound = new Map<
    AppDefinition,
    { ctx: RequestContext; checkers: readonly FeasibilityChecker[] }
  >();
  const placements: Placement[] = [];
  const unplaced: Unplaced[] = [];

  // The request being placed. The selector's callbacks read these, so that they are created
  // once per plan rather than once per request (this loop is the scheduler's hot path).
  let ctx: RequestContext | undefined;
  let checkers: readonly FeasibilityChecker[] = [];
  const options: SelectOptions = {
    order,
    start: 0,
    limit: snapshot.candidateLimit ?? candidateLimit(order.length),
    isFeasible: (agent) => isFeasible(agent, ctx as RequestContext, checkers),
    score: (agent) => scoreAgent(agent, ctx as RequestContext, algorithm),
  };

  const queue = createRequestQueue({
    requests: snapshot.requests,
    slots: state.slots,
    instances: snapshot.instances,
    policies: snapshot.rolePolicies,
    roleOf: (request) => roleOf(request.app),
  });
  // Only when roles take turns: what an unplaced request lost to other roles (a reason, as data).
  const losses = queue.isSharing ? createFairShareLosses(state.slots) : undefined;
  for (let request = queue.next(); request; request = queue.next()) {
    const { app } = request;
    let entry = bound.get(app);
    if (entry) {
      entry.ctx.reasons = {};
    } else {
      const appCtx = createRequestContext(bindApp(app, state));
      entry = { ctx: appCtx, checkers: checkersFor(appCtx) };
      bound.set(app, entry);
    }
    ctx = entry.ctx;
    checkers = entry.checkers;
    const refusal = queue.refusal(request, ctx.role);
    if (refusal) {
      // Quota keeps it from every agent: each counts as having declined for that reason.
      ctx.reasons[refusal] = order.length;
      unplaced.push({
        instanceId: request.instanceId,
        appId: app.id,
        reasons: ctx.reasons,
        agentsEvaluated: order.length,
      });
      continue;
    }
    const selection = selectAgent(options);
    options.start = selection.next;
    const agent = selection.agent;
    if (!agent) {
      const lost = losses?.lostTo(ctx) ?? 0;
      if (lost > 0) ctx.reasons.DeclinedFairShare = lost;
      unplaced.push({
        instanceId: request.instanceId,
        appId: app.id,
        reasons: ctx.reasons,
        agentsEvaluated: selection.visited,
      });
      continue;
    }
    const ports = choosePorts(agent, ctx);
    const { reservedRole } = ctx;
    const fromUnreserved = state.place(agent, app, { ports, reservedRole });
    queue.placed(request, ctx.role, fromUnreserved);
    losses?.placed(agent, ctx.role, fromUnreserved);
    placements.push({
      instanceId: request.instanceId,
      appId: app.id,
      agentId: agent.agent.agentId,
      hostname: agent.agent.hostname,
      ports,
      role: ctx.role,
      ...(reservedRole !== undefined ? { reservationRole: reservedRole } : {}),
    });
  }
  return { placements, unplaced };
}
