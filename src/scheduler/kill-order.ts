// Marathon's order of killing on scale-down: instances not running at all first, then
// unreachable, unhealthy, staging, starting, the rest; GROUP_BY constraints keep groups even.
import type { Agent, AppDefinition, Instance } from '../domain/index.js';
import { isTerminal } from '../domain/index.js';
import { agentFieldValue, isHostnameField } from './agent-field.js';

/** Lower goes first (Marathon's `ScalingProposition.sortByConditionAndDate`). */
function killTier(instance: Instance): number {
  const condition = instance.condition;
  if (condition === 'Scheduled' || isTerminal(condition)) return 0;
  if (condition === 'Unreachable' || condition === 'UnreachableInactive') return 1;
  if (instance.healthCheckResults.some((result) => !result.alive)) return 2;
  if (condition === 'Provisioned' || condition === 'Staging') return 3;
  if (condition === 'Starting') return 4;
  return 5;
}

/** The first `count` of `candidates` in kill order. */
export function killOrder(
  candidates: Instance[],
  count: number,
  input: { app: AppDefinition; agents?: readonly Agent[] },
): Instance[] {
  const youngestFirst = input.app.killSelection === 'YOUNGEST_FIRST';
  const since = (i: Instance) => Date.parse(i.startedAt ?? i.stagedAt ?? i.createdAt);
  const sorted = [...candidates].sort((a, b) => {
    const tier = killTier(a) - killTier(b);
    if (tier !== 0) return tier;
    const age = youngestFirst ? since(b) - since(a) : since(a) - since(b);
    if (age !== 0) return age;
    return a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0;
  });
  const groupFields = input.app.constraints
    .filter(([, operator]) => operator.toUpperCase() === 'GROUP_BY')
    .map(([field]) => field);
  if (groupFields.length === 0) return sorted.slice(0, count);

  const agents = new Map((input.agents ?? []).map((agent) => [agent.agentId, agent]));
  const valueOf = (instance: Instance, field: string): string | undefined => {
    const agent = instance.agentId === undefined ? undefined : agents.get(instance.agentId);
    if (agent) return agentFieldValue(agent, field);
    return isHostnameField(field) ? instance.host : undefined;
  };
  const left = [...sorted];
  const killed: Instance[] = [];
  while (killed.length < count) {
    const pick = pickFromBiggestGroup(left, groupFields, valueOf);
    killed.push(pick);
    left.splice(left.indexOf(pick), 1);
  }
  return killed;
}

/**
 * Among the instances of the first kill tier left, the first one sitting in the biggest group
 * of some GROUP_BY field (Marathon's `selectInstancesToKill`): killing there keeps the groups
 * even. `left` is in kill order and not empty.
 */
function pickFromBiggestGroup(
  left: Instance[],
  fields: string[],
  valueOf: (instance: Instance, field: string) => string | undefined,
): Instance {
  const first = left[0] as Instance;
  const tier = killTier(first);
  let best = first;
  let bestSize = -1;
  for (const field of fields) {
    const sizes = new Map<string | undefined, number>();
    for (const instance of left) {
      const value = valueOf(instance, field);
      sizes.set(value, (sizes.get(value) ?? 0) + 1);
    }
    for (const instance of left) {
      if (killTier(instance) !== tier) continue;
      const size = sizes.get(valueOf(instance, field)) ?? 0;
      if (size > bestSize) {
        best = instance;
        bestSize = size;
      }
    }
  }
  return best;
}
