// Draining (Mesos's maintenance mode) as a pass sees it: agents in maintenance take no new
// placements, and the reconciler replaces their instances under each app's upgrade strategy.
import type { Agent } from '../../domain/index.js';

/**
 * The snapshot's `available` agents and `draining` set: a draining agent stays in the list but
 * counts as inactive, so the scheduler refuses it with Marathon's `AgentMaintenance` (shown by
 * `/v2/queue`) and its running instances still count for constraints.
 */
export function inMaintenance(
  available: Agent[],
  drains: ReadonlyMap<string, string>,
): { available: Agent[]; draining?: ReadonlySet<string> } {
  if (drains.size === 0) return { available };
  return {
    available: available.map((agent) =>
      drains.has(agent.agentId) ? { ...agent, state: 'unreachable' as const } : agent,
    ),
    draining: new Set(drains.keys()),
  };
}
