// Which request the pipeline tries next when several roles wait: Dominant Resource Fairness
// (Ghodsi et al., NSDI 2011) with weights, and quota as Mesos 1.9+ has it (guarantees, limits).
//
//   pending requests by role (each role's own order kept)
//     ─► roles below their guarantee first ─► lowest weighted dominant share ─► role name
//     ─► that role's next request ─► limit? (InsufficientQuota) ─► headroom? (DeclinedQuotaGuarantee)
//     ─► the pipeline places it or not ─► placed: the role's allocation and share grow
//
// A role's dominant share is the largest of its allocated cpus, memory and disk over the
// cluster's, divided by its weight. A role whose request cannot be placed keeps its share, so
// its later requests come next until one fits or none is left: progressive filling, as in the
// paper. Headroom: unreserved resources are held back for the unmet guarantees of every role
// (less what their own reservations still hold), as Mesos's allocator does; a role may always
// grow up to its own guarantee.
import type { Instance, RolePolicy } from '../domain/index.js';
import { UNRESERVED_ROLE, isActive } from '../domain/index.js';
import type { AgentSlot, ReservedPool } from './placement-state.js';
import type { PlacementRequest, RejectReason } from './types.js';

type Key = keyof ReservedPool;
const KEYS: readonly Key[] = ['cpus', 'memMiB', 'diskMiB'];
const EPSILON = 1e-9;

const zero = (): ReservedPool => ({ cpus: 0, memMiB: 0, diskMiB: 0 });

/** The requests in the order to try them, told of each placement as it happens. */
export interface RequestQueue {
  /** Roles take turns by DRF (several roles wait, or quota is set); false: the given order. */
  readonly isSharing: boolean;
  /** The next request to try; undefined when none is left. */
  next(): PlacementRequest | undefined;
  /** Why quota keeps `request` from any agent (checked before agents are visited). */
  refusal(request: PlacementRequest, role: string): RejectReason | undefined;
  /** Records that `request` was placed, taking `fromUnreserved` of unreserved resources. */
  placed(request: PlacementRequest, role: string, fromUnreserved: ReservedPool): void;
}

/** Requests in their given order: one role and no quota, the hot path stays as it was. */
function inOrder(requests: readonly PlacementRequest[]): RequestQueue {
  let index = 0;
  return {
    isSharing: false,
    next: () => requests[index++],
    refusal: () => undefined,
    placed: () => undefined,
  };
}

interface RoleState {
  readonly role: string;
  readonly weight: number;
  readonly guarantees: Partial<ReservedPool>;
  readonly limits: Partial<ReservedPool>;
  readonly allocated: ReservedPool;
  /** Free in this role's reservations, over every agent. */
  readonly freeReserved: ReservedPool;
  readonly pending: PlacementRequest[];
  nextPending: number;
  /** Cached: weighted dominant share, below a guarantee, unmet guarantee (kept current). */
  share: number;
  isBelow: boolean;
  readonly unmet: ReservedPool;
  readonly hasLimits: boolean;
}

/** The requests' order: by DRF among roles when that matters, else as given. */
export function createRequestQueue(input: {
  requests: readonly PlacementRequest[];
  slots: readonly AgentSlot[];
  instances: readonly Instance[];
  policies: readonly RolePolicy[] | undefined;
  roleOf: (request: PlacementRequest) => string;
}): RequestQueue {
  const { requests, slots, instances, roleOf } = input;
  const policies = new Map((input.policies ?? []).map((p) => [p.role, p]));
  const firstRole = requests[0] ? roleOf(requests[0]) : UNRESERVED_ROLE;
  const hasQuota = [...policies.values()].some((p) => p.quota !== undefined);
  if (!hasQuota && requests.every((r) => roleOf(r) === firstRole)) return inOrder(requests);

  // Maps keyed by role: role names are user text (`__proto__` is a fine role name).
  const roles = new Map<string, RoleState>();
  const stateOf = (role: string): RoleState => {
    let state = roles.get(role);
    if (!state) {
      const policy = policies.get(role);
      state = {
        role,
        weight: policy?.weight ?? 1,
        guarantees: policy?.quota?.guarantees ?? {},
        limits: policy?.quota?.limits ?? {},
        allocated: zero(),
        freeReserved: zero(),
        pending: [],
        nextPending: 0,
        share: 0,
        isBelow: false,
        unmet: zero(),
        hasLimits: Object.keys(policy?.quota?.limits ?? {}).length > 0,
      };
      roles.set(role, state);
    }
    return state;
  };
  for (const role of policies.keys()) stateOf(role);

  const total = zero();
  const freeUnreserved = zero();
  for (const slot of slots) {
    for (const key of KEYS) {
      total[key] += slot.agent.total[key];
      freeUnreserved[key] += Math.max(0, slot[key]);
    }
    for (const [role, pool] of slot.reserved ?? []) {
      const state = stateOf(role);
      for (const key of KEYS) state.freeReserved[key] += pool[key];
    }
  }
  for (const instance of instances) {
    if (instance.agentId === undefined || !isActive(instance.condition)) continue;
    const state = stateOf(instance.role ?? UNRESERVED_ROLE);
    state.allocated.cpus += instance.resources.cpus;
    state.allocated.memMiB += instance.resources.memMiB;
    state.allocated.diskMiB += instance.resources.diskMiB;
  }
  for (const request of requests) stateOf(roleOf(request)).pending.push(request);

  const shareOf = (state: RoleState): number => {
    let dominant = 0;
    for (const key of KEYS) {
      if (total[key] > 0) dominant = Math.max(dominant, state.allocated[key] / total[key]);
    }
    return dominant / state.weight;
  };
  /** Unreserved resources held for every role's unmet guarantee, by resource. */
  const held = zero();
  /** Recomputes a role's cached share, guarantee state and unmet guarantee (and `held`). */
  const refresh = (state: RoleState): void => {
    state.share = shareOf(state);
    state.isBelow = false;
    for (const key of KEYS) {
      const guarantee = state.guarantees[key] ?? 0;
      if (guarantee > state.allocated[key] + EPSILON) state.isBelow = true;
      // Guaranteed but neither allocated nor held in the role's own reservations.
      const unmet = Math.max(0, guarantee - state.allocated[key] - state.freeReserved[key]);
      held[key] += unmet - state.unmet[key];
      state.unmet[key] = unmet;
    }
  };
  for (const state of roles.values()) refresh(state);

  const waiting = [...roles.values()].filter((s) => s.pending.length > 0);
  return {
    isSharing: true,
    next() {
      let best: RoleState | undefined;
      for (const state of waiting) {
        if (state.nextPending >= state.pending.length) continue;
        if (
          best === undefined ||
          (state.isBelow && !best.isBelow) ||
          (state.isBelow === best.isBelow &&
            (state.share < best.share - EPSILON ||
              (Math.abs(state.share - best.share) <= EPSILON && state.role < best.role)))
        )
          best = state;
      }
      if (!best) return undefined;
      return best.pending[best.nextPending++];
    },

    refusal(request, role) {
      const state = stateOf(role);
      const { app } = request;
      if (state.hasLimits) {
        const { limits, allocated } = state;
        if (limits.cpus !== undefined && allocated.cpus + app.cpus > limits.cpus + EPSILON)
          return 'InsufficientQuota';
        if (limits.memMiB !== undefined && allocated.memMiB + app.mem > limits.memMiB + EPSILON)
          return 'InsufficientQuota';
        if (limits.diskMiB !== undefined && allocated.diskMiB + app.disk > limits.diskMiB + EPSILON)
          return 'InsufficientQuota';
      }
      if (held.cpus <= EPSILON && held.memMiB <= EPSILON && held.diskMiB <= EPSILON)
        return undefined;
      // What it would take from unreserved resources at most (its reservations go first). A
      // role may always grow up to its own guarantee; past it, what stays free must cover the
      // unmet guarantees of every role (its own included, less what this placement meets).
      const take = {
        cpus: Math.max(0, app.cpus - state.freeReserved.cpus),
        memMiB: Math.max(0, app.mem - state.freeReserved.memMiB),
        diskMiB: Math.max(0, app.disk - state.freeReserved.diskMiB),
      };
      if (KEYS.every((key) => take[key] <= state.unmet[key] + EPSILON)) return undefined;
      for (const key of KEYS) {
        if (take[key] <= 0) continue;
        const after = held[key] - state.unmet[key] + Math.max(0, state.unmet[key] - take[key]);
        if (after > EPSILON && freeUnreserved[key] - take[key] < after - EPSILON)
          return 'DeclinedQuotaGuarantee';
      }
      return undefined;
    },

    placed(request, role, fromUnreserved) {
      const state = stateOf(role);
      const need: ReservedPool = {
        cpus: request.app.cpus,
        memMiB: request.app.mem,
        diskMiB: request.app.disk,
      };
      for (const key of KEYS) {
        state.allocated[key] += need[key];
        state.freeReserved[key] -= need[key] - fromUnreserved[key];
        freeUnreserved[key] -= fromUnreserved[key];
      }
      refresh(state);
    },
  };
}
