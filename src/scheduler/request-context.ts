// One placement request prepared for the pipeline: what the app needs, its constraints bound to
// per-agent field values and live instance counts, and the tally of refusals.
import type { AppDefinition, HostAccessNeeds, TaskKind } from '../domain/index.js';
import { hostAccessNeedsOf, resourceAccessOf, roleOf, taskKindOf } from '../domain/index.js';
import type { CompiledConstraint } from './constraint/compile-constraint.js';
import { compileConstraint } from './constraint/compile-constraint.js';
import type { PlacedInstances } from './constraint/is-constraint-met.js';
import type { AppUsage, PlacementState } from './placement-state.js';
import { taskKindBit } from './placement-state.js';
import type { RejectReason } from './types.js';

/** A constraint bound to this plan: its field's value on every agent and the app's counts. */
export interface BoundConstraint {
  constraint: CompiledConstraint;
  /** Field value by `AgentSlot.index`. */
  values: readonly (string | undefined)[];
  /** Live: reflects every placement made so far in the plan. */
  placed: PlacedInstances;
}

/** An app bound to the plan's state; the same for all of the app's requests in one plan. */
export interface AppBinding {
  readonly app: AppDefinition;
  readonly kind: TaskKind;
  /** `taskKindBit(kind)`. */
  readonly kindBit: number;
  /** Host ports the app asks for by number (`requirePorts`), distinct. */
  readonly literalPorts: readonly number[];
  /** How many host ports may be any free port. */
  readonly dynamicPorts: number;
  readonly constraints: readonly BoundConstraint[];
  /** Host volumes and docker parameters the app needs; undefined when it needs none. */
  readonly hostAccessNeeds: HostAccessNeeds | undefined;
  /** Live usage of the app id. */
  readonly usage: AppUsage;
  /** The role the app's instances are accounted to. */
  readonly role: string;
  /** The app accepts unreserved resources (`*` in `acceptedResourceRoles`, or none given). */
  readonly isUnreservedAccepted: boolean;
  /** The role whose reservations the app may use; undefined: none. */
  readonly reservedRole: string | undefined;
}

/** What feasibility checkers and rankers read for one request. Checkers only add to `reasons`. */
export interface RequestContext extends AppBinding {
  /**
   * Refusals so far, by reason (one per refusing agent). Replaced, never cleared, between
   * requests of one app, so a reported tally is never changed afterwards.
   */
  reasons: Partial<Record<RejectReason, number>>;
}

/** Binds `app` to the plan's state: once per app per plan (it compiles the constraints). */
export function bindApp(app: AppDefinition, state: PlacementState): AppBinding {
  const definitions = app.portDefinitions ?? [];
  const literal = new Set(
    app.requirePorts ? definitions.map((d) => d.port).filter((p) => p !== 0) : [],
  );
  const usage = state.usageOf(app.id);
  const kind = taskKindOf(app);
  const needs = hostAccessNeedsOf(app.container);
  return {
    app,
    kind,
    kindBit: taskKindBit(kind),
    literalPorts: [...literal],
    // A literal port named twice cannot be had twice: the duplicate is one more port needed.
    dynamicPorts: definitions.length - literal.size,
    constraints: app.constraints.map(compileConstraint).map((constraint) => ({
      constraint,
      values: state.fieldValues(constraint.field),
      placed: {
        counts: state.countsOf(usage, constraint.field),
        get total() {
          return usage.total;
        },
      },
    })),
    hostAccessNeeds: needs.volumes.length + needs.dockerParameters.length > 0 ? needs : undefined,
    usage,
    role: roleOf(app),
    ...resourceAccessOf(app),
  };
}

/**
 * A context for the requests of a bound app, with no refusals counted yet. Reuse it for the
 * app's next request after giving it a new `reasons` object.
 */
export function createRequestContext(binding: AppBinding): RequestContext {
  return { ...binding, reasons: {} };
}
