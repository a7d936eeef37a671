// One placement request prepared for the pipeline: what the app needs, its constraints bound to
// per-agent field values and instance counts, and the tally of refusals.
import type { AppDefinition, TaskKind } from '../domain/index.js';
import { taskKindOf } from '../domain/index.js';
import type { CompiledConstraint } from './constraint/compile-constraint.js';
import { compileConstraint } from './constraint/compile-constraint.js';
import type { PlacedInstances } from './constraint/is-constraint-met.js';
import type { AppUsage, PlacementState } from './placement-state.js';
import type { RejectReason } from './types.js';

/** A constraint bound to this plan: its field's value on every agent and the app's counts. */
export interface BoundConstraint {
  constraint: CompiledConstraint;
  /** Field value by `AgentSlot.index`. */
  values: readonly (string | undefined)[];
  placed: PlacedInstances;
}

/** What feasibility checkers and rankers read for one request. Checkers only add to `reasons`. */
export interface RequestContext {
  readonly app: AppDefinition;
  readonly kind: TaskKind;
  /** Host ports the app asks for by number (`requirePorts`), distinct. */
  readonly literalPorts: readonly number[];
  /** How many host ports may be any free port. */
  readonly dynamicPorts: number;
  readonly constraints: readonly BoundConstraint[];
  readonly usage: AppUsage;
  /** Refusals so far, by reason (one per refusing agent). */
  readonly reasons: Partial<Record<RejectReason, number>>;
}

/** Per-app facts that do not change between its requests, computed once per plan. */
export interface PreparedApp {
  kind: TaskKind;
  literalPorts: number[];
  dynamicPorts: number;
  constraints: CompiledConstraint[];
}

/** Computes the per-app facts of `app`. */
export function prepareApp(app: AppDefinition): PreparedApp {
  const definitions = app.portDefinitions ?? [];
  const literal = app.requirePorts ? definitions.map((d) => d.port).filter((p) => p !== 0) : [];
  return {
    kind: taskKindOf(app),
    literalPorts: [...new Set(literal)],
    // A literal port named twice cannot be had twice: the duplicate is one more port needed.
    dynamicPorts: definitions.length - new Set(literal).size,
    constraints: app.constraints.map(compileConstraint),
  };
}

/** Binds a prepared app to the plan's current state for one request. */
export function createRequestContext(
  app: AppDefinition,
  prepared: PreparedApp,
  state: PlacementState,
): RequestContext {
  const usage = state.usageOf(app.id);
  return {
    app,
    kind: prepared.kind,
    literalPorts: prepared.literalPorts,
    dynamicPorts: prepared.dynamicPorts,
    constraints: prepared.constraints.map((constraint) => ({
      constraint,
      values: state.fieldValues(constraint.field),
      placed: { total: usage.total, counts: state.countsOf(usage, constraint.field) },
    })),
    usage,
    reasons: {},
  };
}
