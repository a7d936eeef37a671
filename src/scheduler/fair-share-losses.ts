// Why an instance waits when fairness is the cause: the agents it lost to other roles in this
// pass. DRF gives the next turn to the role with the lowest weighted dominant share, so a role
// that placed before a request of another role in the same pass did so because its share was
// lower (or it was below its guarantee). An unplaced request is told `DeclinedFairShare` for each
// agent where it would have fit, by cpus, memory and disk, at the start of the pass and where
// another role took unreserved resources since (other roles' reservations are never the
// request's to lose, and its own role's reservation no other role takes). Constraints and ports are not re-checked: the count says where
// resources went, not that the request would certainly have been placed there.
import type { AppDefinition } from '../domain/index.js';
import { EPSILON } from './feasibility/checker.js';
import type { AgentSlot, ReservedPool } from './placement-state.js';
import type { RequestContext } from './request-context.js';

const KEYS = ['cpus', 'memMiB', 'diskMiB'] as const;

export interface FairShareLosses {
  /** Records that `role` placed on `slot` in this pass, taking `fromUnreserved` of the shared pool. */
  placed(slot: AgentSlot, role: string, fromUnreserved: ReservedPool): void;
  /** Agents the unplaced request of `ctx` lost to other roles in this pass (see the header). */
  lostTo(ctx: RequestContext): number;
}

/** Takes the start of the pass from `slots` (before any placement). */
export function createFairShareLosses(slots: readonly AgentSlot[]): FairShareLosses {
  const start = slots.map((slot) => ({
    unreserved: { cpus: slot.cpus, memMiB: slot.memMiB, diskMiB: slot.diskMiB },
    reserved:
      slot.reserved && new Map([...slot.reserved].map(([role, pool]) => [role, { ...pool }])),
  }));
  /** Roles that placed on each slot in this pass, by slot index. */
  const rolesOn: (Set<string> | undefined)[] = [];
  /** A pass decides once per app: the first count of an app stands for its later requests. */
  const counted = new Map<AppDefinition, number>();

  const needOf = (app: AppDefinition): ReservedPool => ({
    cpus: app.cpus,
    memMiB: app.mem,
    diskMiB: app.disk,
  });

  return {
    placed(slot, role, fromUnreserved) {
      if (KEYS.every((key) => fromUnreserved[key] <= 0)) return;
      const roles = rolesOn[slot.index];
      if (roles) roles.add(role);
      else rolesOn[slot.index] = new Set([role]);
    },

    lostTo(ctx) {
      if (!ctx.isUnreservedAccepted) return 0;
      const known = counted.get(ctx.app);
      if (known !== undefined) return known;
      const need = needOf(ctx.app);
      let lost = 0;
      for (const slot of slots) {
        const roles = rolesOn[slot.index];
        if (!roles || (roles.size === 1 && roles.has(ctx.role))) continue;
        const initial = start[slot.index];
        if (!initial) continue;
        const pool =
          ctx.reservedRole === undefined ? undefined : initial.reserved?.get(ctx.reservedRole);
        const fits = KEYS.every(
          (key) => need[key] <= initial.unreserved[key] + (pool?.[key] ?? 0) + EPSILON,
        );
        if (fits) lost++;
      }
      counted.set(ctx.app, lost);
      return lost;
    },
  };
}
