// Pure deployment planning (Marathon's `DeploymentPlan.apply`): original apps + target apps →
// ordered steps. No I/O, no clock; the same input always gives the same steps.
import type { AppDefinition, DeploymentAction, DeploymentStep } from '../domain/index.js';
import { ValidationError } from '../domain/index.js';

/** What a plan is computed from. */
export interface PlanInput {
  /** Apps as they are now (every app of the affected tree, or of the whole root). */
  original: AppDefinition[];
  /** Apps as they should be; an original app missing here is removed. */
  target: AppDefinition[];
  /** Ids to restart even when their definition did not change. */
  restart?: string[];
}

/** Marathon's message for a dependency cycle (`RootGroup` validation). */
export const CYCLIC_DEPENDENCIES_MESSAGE = 'Dependency graph has cyclic dependencies.';

/**
 * Computes Marathon's deployment steps:
 * 1. stop the apps that are gone (one step, in parallel);
 * 2. start the new apps at zero instances (one step);
 * 3. scale (instances only changed, or new) or restart (anything else changed, or asked for)
 *    the rest, grouped by the length of their longest `dependencies` path so that an app
 *    comes after everything it depends on. Apps without a change get no action.
 * Empty steps are dropped; actions inside a step are sorted by app id.
 * Throws `ValidationError` when the target's dependencies form a cycle (validate first with
 * `findDependencyCycle` to answer 422 instead).
 */
export function computePlan(input: PlanInput): DeploymentStep[] {
  const originalById = new Map(input.original.map((app) => [app.id, app]));
  const targetById = new Map(input.target.map((app) => [app.id, app]));
  const restart = new Set(input.restart ?? []);
  const steps: DeploymentStep[] = [];

  steps.push({
    actions: sortedIds(input.original.filter((app) => !targetById.has(app.id))).map((app) =>
      action('StopApplication', app),
    ),
  });
  steps.push({
    actions: sortedIds(input.target.filter((app) => !originalById.has(app.id))).map((app) =>
      action('StartApplication', app),
    ),
  });

  const changed = new Map<string, DeploymentAction>();
  for (const app of input.target) {
    const before = originalById.get(app.id);
    const name = changeOf(before, app, restart.has(app.id));
    if (name) changed.set(app.id, action(name, app.id));
  }
  const levels = dependencyLevels(input.target);
  const byLevel = new Map<number, DeploymentAction[]>();
  for (const [id, act] of changed) {
    const level = levels.get(id) ?? 0;
    byLevel.set(level, [...(byLevel.get(level) ?? []), act]);
  }
  for (const level of [...byLevel.keys()].sort((a, b) => a - b)) {
    const actions = byLevel.get(level) ?? [];
    steps.push({ actions: actions.sort((a, b) => compare(a.app, b.app)) });
  }
  return steps.filter((step) => step.actions.length > 0);
}

/** The apps a plan touches (Marathon's `affectedRunSpecIds`), sorted. */
export function affectedApps(steps: DeploymentStep[]): string[] {
  const ids = new Set(steps.flatMap((step) => step.actions.map((a) => a.app)));
  return [...ids].sort(compare);
}

/**
 * A dependency cycle among `apps` as the ids along it (first id repeated at the end), or
 * undefined when there is none. A dependency names an app or a group (all apps under it).
 */
export function findDependencyCycle(apps: AppDefinition[]): string[] | undefined {
  const graph = dependencyGraph(apps);
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): string[] | undefined => {
    const seen = state.get(id);
    if (seen === 'done') return undefined;
    if (seen === 'visiting') return [...path.slice(path.indexOf(id)), id];
    state.set(id, 'visiting');
    path.push(id);
    for (const next of graph.get(id) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const id of [...graph.keys()].sort(compare)) {
    const cycle = visit(id);
    if (cycle) return cycle;
  }
  return undefined;
}

/** Which action an app needs, or undefined for none (Marathon's `isOnlyScaleChange`/`needsRestart`). */
function changeOf(
  before: AppDefinition | undefined,
  after: AppDefinition,
  forceRestart: boolean,
): DeploymentAction['action'] | undefined {
  if (!before) return 'ScaleApplication';
  if (forceRestart || isConfigChange(before, after)) return 'RestartApplication';
  if (before.instances !== after.instances) return 'ScaleApplication';
  return undefined;
}

/**
 * Whether two versions would run different tasks: every field but `instances`, `version` and
 * `versionInfo.lastScalingAt` (a restart moves only `lastConfigChangeAt`, and must restart).
 */
function isConfigChange(before: AppDefinition, after: AppDefinition): boolean {
  if (before.versionInfo.lastConfigChangeAt !== after.versionInfo.lastConfigChangeAt) return true;
  return !isSameConfig(before, after);
}

type Definition = Omit<AppDefinition, 'version' | 'versionInfo'> & Partial<AppDefinition>;

/** Whether two definitions run the same tasks: equal in everything but `instances` and versions. */
export function isSameConfig(before: Definition, after: Definition): boolean {
  const { instances: _i, version: _v, versionInfo: _vi, ...a } = before;
  const { instances: _j, version: _w, versionInfo: _wi, ...b } = after;
  return isDeepEqual(a, b);
}

/** Structural equality of JSON-like values; an undefined member equals a missing one. */
function isDeepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(left), ...Object.keys(right)]);
  for (const key of keys) if (!isDeepEqual(left[key], right[key])) return false;
  return true;
}

/** app id → ids of the apps it depends on (a group dependency expands to its apps). */
function dependencyGraph(apps: AppDefinition[]): Map<string, string[]> {
  const ids = apps.map((app) => app.id);
  const graph = new Map<string, string[]>();
  for (const app of apps) {
    const targets = new Set<string>();
    for (const dependency of app.dependencies) {
      const prefix = dependency.endsWith('/') ? dependency : `${dependency}/`;
      for (const id of ids) {
        if (id !== app.id && (id === dependency || id.startsWith(prefix))) targets.add(id);
      }
    }
    graph.set(app.id, [...targets].sort(compare));
  }
  return graph;
}

/**
 * Length of the longest dependency path starting at each app (1 = depends on nothing), as
 * Marathon's `runSpecsGroupedByLongestPath`; paths run through unchanged apps too.
 */
function dependencyLevels(apps: AppDefinition[]): Map<string, number> {
  const cycle = findDependencyCycle(apps);
  if (cycle) {
    throw new ValidationError([{ path: '/', errors: [CYCLIC_DEPENDENCIES_MESSAGE] }]);
  }
  const graph = dependencyGraph(apps);
  const levels = new Map<string, number>();
  const levelOf = (id: string): number => {
    const known = levels.get(id);
    if (known !== undefined) return known;
    let longest = 0;
    for (const next of graph.get(id) ?? []) longest = Math.max(longest, levelOf(next));
    levels.set(id, longest + 1);
    return longest + 1;
  };
  for (const id of graph.keys()) levelOf(id);
  return levels;
}

function action(name: DeploymentAction['action'], app: AppDefinition | string): DeploymentAction {
  return { action: name, app: typeof app === 'string' ? app : app.id };
}

function sortedIds(apps: AppDefinition[]): AppDefinition[] {
  return [...apps].sort((a, b) => compare(a.id, b.id));
}

/** Code-unit order: stable on every machine, unlike `localeCompare`. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
