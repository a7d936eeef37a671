// /v2/agents (Pacer's own): the agents the master knows, their resources, attributes, last
// heartbeat and the tasks they run.
import { Hono } from 'hono';
import { AGENT_ID_PATTERN } from '../../bus/index.js';
import {
  Action,
  NotFoundError,
  UnavailableError,
  isActive,
  usageByRole,
} from '../../domain/index.js';
import type { Agent, Instance, PortRange, RoleUsage } from '../../domain/index.js';
import { authorize } from '../authorize.js';
import type { RouteDeps } from '../deps.js';
import { defineRoutes, on } from '../route.js';
import { error, json, media } from '../route-docs.js';

/** The JSON of one agent; resources keep Marathon's units (`mem`, `disk` in MiB). */
export function toAgentJson(
  agent: Agent,
  extra: { drain?: { state: 'draining' | 'drained'; since: string }; usage?: RoleUsage[] } = {},
): Record<string, unknown> {
  const { drain, usage } = extra;
  const portTexts = (ports: PortRange[]) => ports.map(([begin, end]) => `${begin}-${end}`);
  const resources = (r: Agent['total']) => ({
    cpus: r.cpus,
    mem: r.memMiB,
    disk: r.diskMiB,
    ports: portTexts(r.ports),
  });
  return {
    id: agent.agentId,
    hostname: agent.hostname,
    state: agent.state,
    attributes: agent.attributes,
    capabilities: agent.capabilities,
    resources: resources(agent.total),
    free: resources(agent.free),
    ...(agent.reservations?.length
      ? {
          reservations: agent.reservations.map((r) => ({
            role: r.role,
            cpus: r.cpus,
            mem: r.memMiB,
            disk: r.diskMiB,
            ...(r.ports?.length ? { ports: portTexts(r.ports) } : {}),
          })),
        }
      : {}),
    ...(usage
      ? {
          resourcesByRole: usage.map((u) => ({
            role: u.role,
            total: resources(u.total),
            used: resources(u.used),
            free: resources(u.free),
          })),
        }
      : {}),
    runningTasks: agent.runningTaskIds,
    registeredAt: agent.registeredAt,
    lastHeartbeatAt: agent.lastHeartbeatAt,
    ...(drain ? { drain } : {}),
  };
}

const agentIdParam = {
  agentId: {
    // No id outside the pattern exists (and a NUL byte must never reach Postgres).
    check: (agentId: string) =>
      AGENT_ID_PATTERN.test(agentId)
        ? undefined
        : new NotFoundError(`Agent '${agentId}' does not exist`),
  },
};

/** The operations of `/v2/agents`. */
export const AGENTS_ROUTES = defineRoutes({
  listAgents: {
    method: 'get',
    path: '/v2/agents',
    operationId: 'listAgents',
    summary: 'Agents, their resources, attributes, heartbeats and tasks',
    tag: 'pacer',
    answers: { '200': json('The agents.', 'AgentList') },
  },
  revokeAgent: {
    method: 'delete',
    path: '/v2/agents/{agentId}',
    operationId: 'revokeAgent',
    summary:
      'Revoke an agent: its Redis user is deleted at once, its tasks become unreachable (admin)',
    tag: 'pacer',
    params: agentIdParam,
    answers: {
      '200': media('Revoked.', 'application/json', {
        type: 'object',
        properties: { id: { type: 'string' }, revoked: { type: 'boolean' } },
      }),
      '404': error('No such agent.'),
    },
  },
  drainAgent: {
    method: 'post',
    path: '/v2/agents/{agentId}/drain',
    operationId: 'drainAgent',
    summary:
      "Maintenance (Mesos's drain): no new placements; the agent's instances are replaced elsewhere under their apps' upgrade strategies; drained once empty (admin)",
    tag: 'pacer',
    params: agentIdParam,
    answers: {
      '200': json('The agent is draining (or drained).', 'AgentDrain'),
      '404': error('No such agent.'),
    },
  },
  undrainAgent: {
    method: 'post',
    path: '/v2/agents/{agentId}/undrain',
    operationId: 'undrainAgent',
    summary: 'Ends maintenance: the agent takes placements again (admin)',
    tag: 'pacer',
    params: agentIdParam,
    answers: {
      '200': json('The agent is in service.', 'AgentDrain'),
      '404': error('No such agent.'),
    },
  },
});

/** Routes of `/v2/agents`. */
export function agentsRoutes(deps: RouteDeps): Hono {
  const routes = new Hono();

  on(routes, AGENTS_ROUTES.listAgents, async (c) => {
    authorize(c, Action.ADMIN);
    const [agents, snapshot] = await Promise.all([deps.store.agents.list(), deps.reads.snapshot()]);
    const held = new Map<string, Instance[]>();
    for (const instance of snapshot.instances) {
      if (instance.agentId === undefined || !isActive(instance.condition)) continue;
      const list = held.get(instance.agentId);
      if (list) list.push(instance);
      else held.set(instance.agentId, [instance]);
    }
    return c.json({
      agents: agents.map((agent) =>
        toAgentJson(agent, {
          drain: deps.agentDrain?.stateOf(agent.agentId),
          usage: usageByRole({
            total: agent.total,
            reported: agent.free,
            reservations: agent.reservations ?? [],
            held: held.get(agent.agentId) ?? [],
          }),
        }),
      ),
    });
  });

  const drains = () => {
    if (!deps.agentDrain) throw new UnavailableError('This master cannot drain agents');
    return deps.agentDrain;
  };

  // Maintenance is about the whole cluster's capacity: admin only, like revocation.
  on(routes, AGENTS_ROUTES.drainAgent, async (c) => {
    authorize(c, Action.ADMIN);
    const agentId = c.req.param('agentId') ?? '';
    if (!(await deps.store.agents.get(agentId)))
      throw new NotFoundError(`Agent '${agentId}' does not exist`);
    const drain = await drains().drain(agentId);
    return c.json({ id: agentId, drain });
  });

  on(routes, AGENTS_ROUTES.undrainAgent, async (c) => {
    authorize(c, Action.ADMIN);
    const agentId = c.req.param('agentId') ?? '';
    if (!(await deps.store.agents.get(agentId)))
      throw new NotFoundError(`Agent '${agentId}' does not exist`);
    await drains().undrain(agentId);
    return c.json({ id: agentId, drain: null });
  });

  // Revokes the agent: its Redis user goes at once, its tasks are handled as unreachable.
  on(routes, AGENTS_ROUTES.revokeAgent, async (c) => {
    authorize(c, Action.ADMIN);
    const agentId = c.req.param('agentId') ?? '';
    const isKnown = (await deps.agentIdentity?.revoke(agentId)) === true;
    if (!isKnown) throw new NotFoundError(`Agent '${agentId}' does not exist`);
    return c.json({ id: agentId, revoked: true });
  });

  return routes;
}
