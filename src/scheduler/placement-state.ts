// What one schedule() run knows and changes: each agent's free resources and, per app, where its
// instances are. Placements made earlier in the plan are applied here before the next request.
import type { Agent, AppDefinition, Instance, PortRange } from '../domain/index.js';
import { TaskKind, isActive, isPortInRanges, portCount, withoutPorts } from '../domain/index.js';
import { agentFieldValue, isHostnameField } from './agent-field.js';
import type { FieldCounts } from './constraint/field-counts.js';
import { createFieldCounts } from './constraint/field-counts.js';

/** Free ports of one pool: an agent's unreserved ports, or one role's reserved ports there. */
export interface PortPool {
  /** Free port ranges, sorted. */
  ports: PortRange[];
  freePortCount: number;
}

/** An agent with what is still free on it in this plan. */
export interface AgentSlot extends PortPool {
  readonly agent: Agent;
  /** Position in the snapshot's `agents`; indexes per-agent arrays. */
  readonly index: number;
  /** `agent.state === 'active'`, read once: checked on every visit. */
  readonly isActive: boolean;
  /** The agent's capabilities as bits of `taskKindBit`, read once: checked on every visit. */
  readonly kindMask: number;
  cpus: number;
  memMiB: number;
  diskMiB: number;
  /**
   * What is free of each role's reservation (role → amounts and ports); undefined when the agent
   * reserves nothing. `cpus`, `memMiB`, `diskMiB` and `ports` above are the unreserved part only.
   */
  reserved: Map<string, ReservationSlot> | undefined;
}

/** What is free of one role's reservation on one agent in this plan. */
export interface ReservationSlot extends ReservedPool, PortPool {}

/** Free resources of one role's reservation on one agent. */
export interface ReservedPool {
  cpus: number;
  memMiB: number;
  diskMiB: number;
}

/** Where one app's instances are: active ones from the snapshot plus those placed in this plan. */
export interface AppUsage {
  /** Instances placed on some agent. */
  total: number;
  /** agentId → instances there. */
  readonly perAgent: Map<string, number>;
  /** field → counts by value, built on first use and kept current after. */
  readonly byField: Map<string, FieldCounts>;
  /** Every instance's agent (and host, for agents missing from the snapshot). */
  readonly positions: { agentId: string; host: string | undefined }[];
}

export interface PlacementState {
  readonly slots: readonly AgentSlot[];
  /** The usage of an app id (instances of every version count together, as in Marathon). */
  usageOf(appId: string): AppUsage;
  /** `field`'s value on each agent, indexed like `slots`. Cached. */
  fieldValues(field: string): readonly (string | undefined)[];
  /** The app's instances grouped by `field`. Cached and updated by `place`. */
  countsOf(usage: AppUsage, field: string): FieldCounts;
  /**
   * Records a placement: consumes resources and ports, counts the instance for constraints.
   * With `reservedRole`, that role's reservation on the agent is consumed first, the rest from
   * unreserved resources; each port leaves the pool it is in. Returns what was taken from
   * unreserved resources (scalars).
   */
  place(
    slot: AgentSlot,
    app: AppDefinition,
    placing: { ports: readonly number[]; reservedRole?: string },
  ): ReservedPool;
}

/** One bit per task kind, for `AgentSlot.kindMask`. */
export function taskKindBit(kind: TaskKind): number {
  return 1 << TaskKind.indexOf(kind);
}

/** Builds the state from a snapshot's agents and instances (the snapshot is not changed). */
export function createPlacementState(
  agents: readonly Agent[],
  instances: readonly Instance[],
): PlacementState {
  const slots: AgentSlot[] = agents.map((agent, index) => ({
    agent,
    index,
    isActive: agent.state === 'active',
    kindMask: agent.capabilities.reduce((mask, kind) => mask | taskKindBit(kind), 0),
    cpus: agent.free.cpus,
    memMiB: agent.free.memMiB,
    diskMiB: agent.free.diskMiB,
    ports: [...agent.free.ports].sort((a, b) => a[0] - b[0]),
    freePortCount: portCount(agent.free.ports),
    reserved: agent.freeReserved?.length
      ? new Map(
          agent.freeReserved.map((r) => {
            const ports = [...(r.ports ?? [])].sort((a, b) => a[0] - b[0]);
            const pool = { cpus: r.cpus, memMiB: r.memMiB, diskMiB: r.diskMiB };
            return [r.role, { ...pool, ports, freePortCount: portCount(ports) }];
          }),
        )
      : undefined,
  }));
  const slotById = new Map(slots.map((slot) => [slot.agent.agentId, slot]));
  const usages = new Map<string, AppUsage>();
  const fieldCache = new Map<string, (string | undefined)[]>();

  const usageOf = (appId: string): AppUsage => {
    let usage = usages.get(appId);
    if (!usage) {
      usage = { total: 0, perAgent: new Map(), byField: new Map(), positions: [] };
      usages.set(appId, usage);
    }
    return usage;
  };

  const valueAt = (position: AppUsage['positions'][number], field: string) => {
    const slot = slotById.get(position.agentId);
    if (slot) return agentFieldValue(slot.agent, field);
    // An agent the snapshot leaves out: only its hostname is known (from the instance).
    return isHostnameField(field) ? position.host : undefined;
  };

  const record = (usage: AppUsage, position: AppUsage['positions'][number]) => {
    usage.total += 1;
    usage.perAgent.set(position.agentId, (usage.perAgent.get(position.agentId) ?? 0) + 1);
    usage.positions.push(position);
    if (usage.byField.size > 0) {
      for (const [field, counts] of usage.byField) counts.add(valueAt(position, field));
    }
  };

  for (const instance of instances) {
    // Instances holding an agent count: active ones (Unreachable and Killing included), whatever
    // their goal, so a constraint holds even while an old instance is still being killed.
    if (instance.agentId === undefined || !isActive(instance.condition)) continue;
    record(usageOf(instance.appId), { agentId: instance.agentId, host: instance.host });
  }

  return {
    slots,
    usageOf,
    fieldValues(field) {
      let values = fieldCache.get(field);
      if (!values) {
        values = slots.map((slot) => agentFieldValue(slot.agent, field));
        fieldCache.set(field, values);
      }
      return values;
    },
    countsOf(usage, field) {
      let counts = usage.byField.get(field);
      if (!counts) {
        counts = createFieldCounts();
        for (const position of usage.positions) counts.add(valueAt(position, field));
        usage.byField.set(field, counts);
      }
      return counts;
    },
    place(slot, app, placing) {
      const { ports } = placing;
      const pool =
        placing.reservedRole !== undefined ? slot.reserved?.get(placing.reservedRole) : undefined;
      const unreserved = { cpus: app.cpus, memMiB: app.mem, diskMiB: app.disk };
      if (pool) {
        // Reserved first (Mesos's allocator offers a role its reservations before the rest).
        for (const key of ['cpus', 'memMiB', 'diskMiB'] as const) {
          const taken = Math.min(pool[key], unreserved[key]);
          pool[key] -= taken;
          unreserved[key] -= taken;
        }
      }
      slot.cpus -= unreserved.cpus;
      slot.memMiB -= unreserved.memMiB;
      slot.diskMiB -= unreserved.diskMiB;
      if (ports.length > 0) {
        // A port comes from the role's reserved ports or from unreserved ones (choosePorts).
        const reservedPorts =
          pool && pool.freePortCount > 0
            ? ports.filter((port) => isPortInRanges(port, pool.ports))
            : [];
        if (pool && reservedPorts.length > 0) {
          pool.ports = withoutPorts(pool.ports, reservedPorts);
          pool.freePortCount -= reservedPorts.length;
        }
        const rest =
          reservedPorts.length > 0 ? ports.filter((port) => !reservedPorts.includes(port)) : ports;
        if (rest.length > 0) {
          slot.ports = withoutPorts(slot.ports, rest);
          slot.freePortCount -= rest.length;
        }
      }
      record(usageOf(app.id), { agentId: slot.agent.agentId, host: slot.agent.hostname });
      return unreserved;
    },
  };
}
