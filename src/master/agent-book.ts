// The master's view of its agents: registered from their offers, free resources derived from
// what the master placed on them, marked unreachable when their heartbeats stop.
import type { OfferMessage } from '../bus/index.js';
import type { Agent, Instance } from '../domain/index.js';
import { splitFree, toTimestamp } from '../domain/index.js';
import type { Clock, Logger } from '../lib/index.js';
import type { Store } from '../store/index.js';
import type { InstanceView } from './applier/index.js';

export interface AgentBook {
  /** Loads known agents from the store (start of leadership); they count as heard from now. */
  load(): Promise<void>;
  /** Applies an offer (a heartbeat); true when the agent is new or came back. */
  offer(message: OfferMessage): Promise<boolean>;
  /** Marks agents silent for longer than the timeout unreachable; returns them. */
  expire(): Promise<Agent[]>;
  /** Active agents not heard from for over half the timeout (candidates for `heard`). */
  quiet(): Agent[];
  /**
   * The agent is known to be sending (its offers are on the bus, not read yet): counts as a
   * heartbeat, without the offer's content. Unknown agents are ignored.
   */
  heard(agentId: string): void;
  /** Marks one agent unreachable now (revoked); returns it, or undefined when unknown. */
  markUnreachable(agentId: string): Promise<Agent | undefined>;
  get(agentId: string): Agent | undefined;
  list(): Agent[];
  /**
   * Active agents with `free` = total minus what the instances placed on each hold. An agent's
   * figure is derived again only when its offer or its holdings changed since the last call.
   */
  available(holdings: Pick<InstanceView, 'heldOn' | 'heldVersionOn'>): Agent[];
}

/** Heartbeats refresh the stored row at most this often, to spare the database. */
const PERSIST_HEARTBEAT_MS = 10_000;

export function createAgentBook(options: {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Silence after which an agent is unreachable. */
  timeoutMs: number;
}): AgentBook {
  const { store, clock, logger, timeoutMs } = options;
  const agents = new Map<string, Agent>();
  const lastSeen = new Map<string, number>();
  const lastPersisted = new Map<string, number>();
  const signatures = new Map<string, string>();
  /** Agent id → the last `available` figure, with the offer and holdings it came from. */
  const derived = new Map<string, { agent: Agent; version: unknown; available: Agent }>();

  async function persist(agent: Agent, now: number): Promise<void> {
    await store.agents.put(agent);
    lastPersisted.set(agent.agentId, now);
  }

  return {
    async load() {
      const now = clock.now();
      for (const agent of await store.agents.list()) {
        agents.set(agent.agentId, agent);
        lastSeen.set(agent.agentId, now);
      }
    },

    async offer(message) {
      const now = clock.now();
      const known = agents.get(message.agentId);
      const isBack = !known || known.state === 'unreachable';
      const agent: Agent = {
        agentId: message.agentId,
        hostname: message.hostname,
        attributes: message.attributes,
        capabilities: message.capabilities,
        ...(message.hostAccess ? { hostAccess: message.hostAccess } : {}),
        total: message.total,
        free: message.free,
        ...(message.reservations?.length ? { reservations: message.reservations } : {}),
        runningTaskIds: message.runningTaskIds,
        registeredAt: known?.registeredAt ?? toTimestamp(now),
        lastHeartbeatAt: toTimestamp(now),
        state: 'active',
      };
      agents.set(agent.agentId, agent);
      lastSeen.set(agent.agentId, now);
      // Heartbeats arrive every second from every agent: compare one string, not two objects.
      const signature = JSON.stringify([
        message.hostname,
        message.attributes,
        message.capabilities,
        message.hostAccess,
        message.total,
        message.free,
        message.reservations,
        message.runningTaskIds,
      ]);
      const isChanged = isBack || signatures.get(agent.agentId) !== signature;
      signatures.set(agent.agentId, signature);
      if (isChanged || now - (lastPersisted.get(agent.agentId) ?? 0) >= PERSIST_HEARTBEAT_MS) {
        await persist(agent, now);
      }
      if (isBack)
        logger.info(
          { agentId: agent.agentId, hostname: agent.hostname },
          known ? 'agent back' : 'agent registered',
        );
      return isBack;
    },

    async expire() {
      const now = clock.now();
      const expired: Agent[] = [];
      for (const agent of agents.values()) {
        if (agent.state !== 'active' || now - (lastSeen.get(agent.agentId) ?? 0) <= timeoutMs)
          continue;
        const silent = { ...agent, state: 'unreachable' as const };
        agents.set(agent.agentId, silent);
        await persist(silent, now);
        logger.warn({ agentId: agent.agentId, hostname: agent.hostname }, 'agent unreachable');
        expired.push(silent);
      }
      return expired;
    },

    quiet() {
      const now = clock.now();
      return [...agents.values()].filter(
        (agent) =>
          agent.state === 'active' && now - (lastSeen.get(agent.agentId) ?? 0) > timeoutMs / 2,
      );
    },

    heard(agentId) {
      if (agents.has(agentId)) lastSeen.set(agentId, clock.now());
    },

    async markUnreachable(agentId) {
      const agent = agents.get(agentId);
      if (!agent) return undefined;
      const silent = { ...agent, state: 'unreachable' as const };
      agents.set(agentId, silent);
      await persist(silent, clock.now());
      return silent;
    },

    get: (agentId) => agents.get(agentId),
    list: () => [...agents.values()],

    available(holdings) {
      const result: Agent[] = [];
      for (const agent of agents.values()) {
        if (agent.state !== 'active') continue;
        const known = derived.get(agent.agentId);
        if (known?.agent === agent && known.version === holdings.heldVersionOn(agent.agentId)) {
          result.push(known.available);
          continue;
        }
        const { version, instances } = holdings.heldOn(agent.agentId);
        const available = withHoldings(agent, instances);
        derived.set(agent.agentId, { agent, version, available });
        result.push(available);
      }
      if (derived.size > agents.size)
        for (const agentId of derived.keys()) if (!agents.has(agentId)) derived.delete(agentId);
      return result;
    },
  };
}

/** The agent with what `on` (the instances placed there) leaves free. */
function withHoldings(agent: Agent, on: Instance[]): Agent {
  const { free, freePorts, freeReserved } = splitFree({
    total: agent.total,
    reported: agent.free,
    reservations: agent.reservations ?? [],
    held: on,
  });
  // The master's own bookkeeping is authoritative; the agent's report can only lower it
  // (it may still run tasks the master has asked it to kill). Reserved resources, ports
  // included, are apart from `free`: only their role's apps may take them.
  return {
    ...agent,
    free: { ...free, ports: freePorts },
    ...(agent.reservations?.length ? { freeReserved } : {}),
  };
}
