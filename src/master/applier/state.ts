// The leader's state in memory: apps, running deployments, instances and the apps' last task
// failures, each record with the revision of its last change. Only the applier changes it
// (through `commitDraft`); everything else reads it through the two views.
import type {
  AppDefinition,
  Deployment,
  GroupRecord,
  Instance,
  RolePolicy,
  TaskFailure,
} from '../../domain/index.js';
import {
  currentTaskId,
  enforcingGroupIds,
  isTerminal,
  servicePortsHeld,
} from '../../domain/index.js';
import type { StateChanges } from '../../store/index.js';
import { HeldPorts } from './held-ports.js';

/** A token naming one content of an agent's holdings; a new one for every change. */
export type HeldVersion = Readonly<Record<string, never>>;

/** The token of an agent holding nothing (every empty set derives the same). */
const HOLDS_NOTHING: HeldVersion = Object.freeze({});

/** A record and the state revision that last changed it. */
export interface Versioned<TValue> {
  value: TValue;
  revision: number;
}

/** Instances as the leader holds them (Marathon's instance tracker, read side). */
export interface InstanceView {
  /** Every instance; empty while no state is loaded. */
  all(): Instance[];
  byApp(appId: string): Instance[];
  get(instanceId: string): Instance | undefined;
  /** The instance whose current task has this id. */
  byTaskId(taskId: string): Instance | undefined;
  /** The revision of the instance's last change; what an update intent names. */
  revisionOf(instanceId: string): number | undefined;
  /** Every instance with its revision (the records themselves: treat as read-only). */
  records(): Versioned<Instance>[];
  /** The records of one app's instances (an index: no scan of the others). */
  recordsOfApp(appId: string): Versioned<Instance>[];
  /** The records of instances waiting for a placement (condition Scheduled; an index). */
  waiting(): Versioned<Instance>[];
  /**
   * Instances that hold resources on `agentId` (placed there, neither ended nor waiting), and
   * a token (compare with ===) replaced whenever that set or what one of them holds changes,
   * also by a load: a reader may keep what it derived from them while the token is the same.
   */
  heldOn(agentId: string): { version: HeldVersion; instances: Instance[] };
  /** The `version` of `heldOn(agentId)` without building the list. */
  heldVersionOn(agentId: string): HeldVersion;
}

/** Apps and running deployments as the leader holds them. */
export interface AppView {
  /** A number that grows with every applied change; undefined while no state is loaded. */
  revision(): number | undefined;
  /** Throws while no state is loaded (a follower must never act on a stale copy). */
  get(id: string): AppDefinition | undefined;
  /** Every app, keyed by id; a copy that later changes leave alone. */
  apps(): Map<string, AppDefinition>;
  /** Running deployments in creation order; a copy. */
  deployments(): Deployment[];
  deployment(id: string): Deployment | undefined;
  /** The revision of the deployment's last change; what a progress intent names. */
  deploymentRevisionOf(id: string): number | undefined;
  /** The latest failed task of an app: from memory once written or read, else from the store. */
  lastTaskFailure(appId: string): Promise<TaskFailure | undefined>;
  /** How many apps hold service port `port` (an index: no scan of the apps). */
  servicePortHolders(port: number): number;
  /** The lowest service port at or above `from` no app holds (held-ports.ts: no walk from it). */
  firstUnheldServicePort(from: number): number;
  /** The top-level groups that enforce their role (their records, kept with every write); a copy. */
  enforcingGroups(): Set<string>;
}

/** Agents in maintenance (drain) as the leader holds them. */
export interface DrainView {
  /** When the agent's drain was asked; undefined when it is not draining. */
  since(agentId: string): string | undefined;
  /** Every draining agent: id → since (a copy). */
  all(): Map<string, string>;
}

/** The mutable maps behind the views. */
export interface StateData {
  apps: Map<string, AppDefinition>;
  deployments: Map<string, Versioned<Deployment>>;
  instances: Map<string, Versioned<Instance>>;
  byApp: Map<string, Map<string, Versioned<Instance>>>;
  /** Instances waiting for a placement (condition Scheduled). */
  waiting: Map<string, Versioned<Instance>>;
  /** Agent id → the instances holding resources there (see `holdsAgent`). */
  held: Map<string, Map<string, Instance>>;
  /** Agent id → its holdings' token, replaced whenever `held` of that agent changes. */
  heldVersions: Map<string, HeldVersion>;
  /** Failures known in memory; null = known to be none (app removed). */
  failures: Map<string, TaskFailure | null>;
  /** How many apps hold each service port; kept with `apps` so assigning one scans nothing. */
  servicePorts: HeldPorts;
  /** Quota and weight per role (role-policies.ts). */
  roles: Map<string, RolePolicy>;
  /** Draining agents: id → since. */
  drains: Map<string, string>;
  /** Top-level groups that enforce their role: every POST of an app under a group asks. */
  enforcingGroups: Set<string>;
  revision: number;
}

/**
 * The changes of a batch of intents not yet stored: each key's latest value (null = removed),
 * read through before the state. Apps keep every version written, in order (each is a version
 * row in the store).
 */
export interface Draft {
  revision: number;
  instances: Map<string, Versioned<Instance> | null>;
  apps: Map<string, AppDefinition | null>;
  appVersions: AppDefinition[];
  removedApps: string[];
  deployments: Map<string, Versioned<Deployment> | null>;
  failures: Map<string, TaskFailure>;
  /** Role policies as the batch leaves them (null: none left). */
  roles: Map<string, RolePolicy | null>;
  drains: Map<string, string | null>;
  /** Group records as the batch leaves them, by id (store only: see `Intent.groups`). */
  groups: Map<string, GroupRecord>;
}

export function emptyDraft(revision: number): Draft {
  return {
    revision,
    instances: new Map(),
    apps: new Map(),
    appVersions: [],
    removedApps: [],
    deployments: new Map(),
    failures: new Map(),
    roles: new Map(),
    drains: new Map(),
    groups: new Map(),
  };
}

export function emptyState(): StateData {
  return {
    apps: new Map(),
    deployments: new Map(),
    instances: new Map(),
    byApp: new Map(),
    waiting: new Map(),
    held: new Map(),
    heldVersions: new Map(),
    failures: new Map(),
    servicePorts: new HeldPorts(),
    roles: new Map(),
    drains: new Map(),
    enforcingGroups: new Set(),
    revision: 0,
  };
}

/** Counts `app`'s service ports in (`by` 1) or out (`by` -1) of the index. */
function indexServicePorts(state: StateData, app: AppDefinition | undefined, by: 1 | -1): void {
  if (app) state.servicePorts.count(servicePortsHeld(app), by);
}

/** Puts (or, with undefined, removes) app `id`, keeping the service port index. */
function putApp(state: StateData, id: string, app: AppDefinition | undefined): void {
  indexServicePorts(state, state.apps.get(id), -1);
  indexServicePorts(state, app, 1);
  if (app) state.apps.set(id, app);
  else state.apps.delete(id);
}

/** Placed on an agent and not ended: counts against that agent's resources. */
function holdsAgent(instance: Instance): boolean {
  return (
    instance.agentId !== undefined &&
    !isTerminal(instance.condition) &&
    instance.condition !== 'Scheduled'
  );
}

/** Whether two holding records take the same resources (a status change takes the same). */
function holdsSame(a: Instance, b: Instance): boolean {
  return (
    a.agentId === b.agentId &&
    a.reservationRole === b.reservationRole &&
    (a.resources === b.resources ||
      (a.resources.cpus === b.resources.cpus &&
        a.resources.memMiB === b.resources.memMiB &&
        a.resources.diskMiB === b.resources.diskMiB)) &&
    (a.ports === b.ports ||
      (a.ports.length === b.ports.length && a.ports.every((port, n) => port === b.ports[n])))
  );
}

function bumpHeld(state: StateData, agentId: string): void {
  state.heldVersions.set(agentId, {});
}

/** Keeps the agent index of `instanceId` as it goes from `previous` to `next`. */
function indexHeld(
  state: StateData,
  previous: Instance | undefined,
  next: Instance | undefined,
): void {
  const wasHolding = previous !== undefined && holdsAgent(previous);
  const isHolding = next !== undefined && holdsAgent(next);
  if (wasHolding && previous.agentId !== undefined) {
    const on = state.held.get(previous.agentId);
    on?.delete(previous.instanceId);
    if (on?.size === 0) state.held.delete(previous.agentId);
  }
  if (isHolding && next.agentId !== undefined) {
    let on = state.held.get(next.agentId);
    if (!on) state.held.set(next.agentId, (on = new Map<string, Instance>()));
    on.set(next.instanceId, next);
  }
  // Status changes (staging → running) keep the same holding: no reader needs to recompute.
  if (wasHolding && isHolding && holdsSame(previous, next)) return;
  if (wasHolding && previous.agentId !== undefined) bumpHeld(state, previous.agentId);
  if (isHolding && next.agentId !== undefined && (!wasHolding || next.agentId !== previous.agentId))
    bumpHeld(state, next.agentId);
}

function remember(state: StateData, record: Versioned<Instance>): void {
  const previous = state.instances.get(record.value.instanceId);
  if (previous && previous.value.appId !== record.value.appId)
    forget(state, previous.value.instanceId);
  const before = state.instances.get(record.value.instanceId)?.value;
  indexHeld(state, before, record.value);
  state.instances.set(record.value.instanceId, record);
  let forApp = state.byApp.get(record.value.appId);
  if (!forApp)
    state.byApp.set(record.value.appId, (forApp = new Map<string, Versioned<Instance>>()));
  forApp.set(record.value.instanceId, record);
  if (record.value.condition === 'Scheduled') state.waiting.set(record.value.instanceId, record);
  else state.waiting.delete(record.value.instanceId);
}

function forget(state: StateData, instanceId: string): void {
  const record = state.instances.get(instanceId);
  if (!record) return;
  indexHeld(state, record.value, undefined);
  state.instances.delete(instanceId);
  state.waiting.delete(instanceId);
  const forApp = state.byApp.get(record.value.appId);
  forApp?.delete(instanceId);
  if (forApp?.size === 0) state.byApp.delete(record.value.appId);
}

/** Fills `state` from what the store holds, all at `revision`. */
export function loadState(
  state: StateData,
  stored: {
    apps: AppDefinition[];
    deployments: Deployment[];
    instances: Instance[];
    roles?: RolePolicy[];
    drains?: Map<string, string>;
    groups?: GroupRecord[];
  },
): void {
  state.roles = new Map((stored.roles ?? []).map((policy) => [policy.role, policy]));
  const revision = state.revision + 1;
  state.apps = new Map();
  state.servicePorts = new HeldPorts();
  for (const app of stored.apps) putApp(state, app.id, app);
  state.deployments = new Map(stored.deployments.map((d) => [d.id, { value: d, revision }]));
  state.instances = new Map();
  state.byApp = new Map();
  state.waiting = new Map();
  state.held = new Map();
  // Fresh tokens: nothing a reader derived before the load matches them.
  state.heldVersions = new Map();
  state.failures = new Map();
  state.drains = new Map(stored.drains ?? []);
  state.enforcingGroups = enforcingGroupIds(stored.groups ?? []);
  for (const instance of stored.instances) remember(state, { value: instance, revision });
  state.revision = revision;
}

/**
 * Applies what changed in the store (a warm standby's refresh) to `state`, each changed record at
 * one new revision; the whole state reads as `loadState`. Idempotent: a record read again is put
 * again, as it is now.
 */
export function applyChanges(state: StateData, changes: StateChanges): void {
  if (changes.isWhole) {
    loadState(state, { ...changes, deployments: changes.deployments ?? [] });
    return;
  }
  const revision = state.revision + 1;
  for (const app of changes.apps) putApp(state, app.id, app);
  for (const id of changes.removed.apps) putApp(state, id, undefined);
  if (changes.deployments) {
    // Every running deployment, in creation order; unchanged ones keep their revision.
    const previous = state.deployments;
    state.deployments = new Map();
    for (const deployment of changes.deployments) {
      const kept = previous.get(deployment.id);
      const isSame = kept && JSON.stringify(kept.value) === JSON.stringify(deployment);
      state.deployments.set(deployment.id, isSame ? kept : { value: deployment, revision });
    }
  }
  for (const instance of changes.instances) remember(state, { value: instance, revision });
  for (const id of changes.removed.instances) forget(state, id);
  for (const policy of changes.roles) state.roles.set(policy.role, policy);
  for (const role of changes.removed.roles) state.roles.delete(role);
  for (const [agentId, since] of changes.drains) state.drains.set(agentId, since);
  for (const agentId of changes.removed.drains) state.drains.delete(agentId);
  state.revision = revision;
}

/** Applies a stored draft to memory. */
export function commitDraft(state: StateData, draft: Draft): void {
  for (const [id, record] of draft.instances) {
    if (record) remember(state, record);
    else forget(state, id);
  }
  for (const [id, app] of draft.apps) putApp(state, id, app ?? undefined);
  for (const id of draft.removedApps) state.failures.set(id, null);
  for (const [id, record] of draft.deployments) {
    if (record) state.deployments.set(id, record);
    else state.deployments.delete(id);
  }
  for (const [appId, failure] of draft.failures) state.failures.set(appId, failure);
  for (const [role, policy] of draft.roles) {
    if (policy) state.roles.set(role, policy);
    else state.roles.delete(role);
  }
  for (const [agentId, since] of draft.drains) {
    if (since === null) state.drains.delete(agentId);
    else state.drains.set(agentId, since);
  }
  for (const record of draft.groups.values()) {
    if (record.enforceRole) state.enforcingGroups.add(record.id);
    else state.enforcingGroups.delete(record.id);
  }
  state.revision = draft.revision;
}

/** The record of an instance as the draft (else the state) holds it. */
export function draftInstance(
  state: StateData,
  draft: Draft,
  instanceId: string,
): Versioned<Instance> | undefined {
  const drafted = draft.instances.get(instanceId);
  return drafted === undefined ? state.instances.get(instanceId) : (drafted ?? undefined);
}

export function draftApp(state: StateData, draft: Draft, appId: string): AppDefinition | undefined {
  const drafted = draft.apps.get(appId);
  return drafted === undefined ? state.apps.get(appId) : (drafted ?? undefined);
}

export function draftDeployment(
  state: StateData,
  draft: Draft,
  id: string,
): Versioned<Deployment> | undefined {
  const drafted = draft.deployments.get(id);
  return drafted === undefined ? state.deployments.get(id) : (drafted ?? undefined);
}

export function createInstanceView(read: () => StateData | undefined): InstanceView {
  return {
    all: () => [...(read()?.instances.values() ?? [])].map((record) => record.value),
    byApp: (appId) => [...(read()?.byApp.get(appId)?.values() ?? [])].map((r) => r.value),
    get: (instanceId) => read()?.instances.get(instanceId)?.value,
    byTaskId(taskId) {
      // Asked for every task of every offer and status: a slice, not a regular expression. The
      // check below refuses any id that is not exactly the instance's current task id.
      const cut = taskId.lastIndexOf('._app.');
      const instanceId = cut < 0 ? taskId : taskId.slice(0, cut);
      const instance = read()?.instances.get(instanceId)?.value;
      return instance && currentTaskId(instance) === taskId ? instance : undefined;
    },
    revisionOf: (instanceId) => read()?.instances.get(instanceId)?.revision,
    records: () => [...(read()?.instances.values() ?? [])],
    recordsOfApp: (appId) => [...(read()?.byApp.get(appId)?.values() ?? [])],
    waiting: () => [...(read()?.waiting.values() ?? [])],
    heldOn(agentId) {
      const state = read();
      return {
        version: state?.heldVersions.get(agentId) ?? HOLDS_NOTHING,
        instances: [...(state?.held.get(agentId)?.values() ?? [])],
      };
    },
    heldVersionOn: (agentId) => read()?.heldVersions.get(agentId) ?? HOLDS_NOTHING,
  };
}

export function createAppView(
  read: () => StateData | undefined,
  readFailure: (appId: string) => Promise<TaskFailure | undefined>,
): AppView {
  function loaded(): StateData {
    const state = read();
    if (!state) throw new Error('Master state used before it was loaded');
    return state;
  }
  return {
    revision: () => read()?.revision,
    get: (id) => loaded().apps.get(id),
    apps: () => new Map(loaded().apps),
    deployments: () => [...loaded().deployments.values()].map((record) => record.value),
    deployment: (id) => loaded().deployments.get(id)?.value,
    deploymentRevisionOf: (id) => loaded().deployments.get(id)?.revision,
    servicePortHolders: (port) => loaded().servicePorts.holders(port),
    firstUnheldServicePort: (from) => loaded().servicePorts.firstUnheld(from),
    enforcingGroups: () => new Set(loaded().enforcingGroups),
    async lastTaskFailure(appId) {
      const state = loaded();
      const known = state.failures.get(appId);
      if (known !== undefined) return known ?? undefined;
      const stored = await readFailure(appId);
      // Written meanwhile: the newer one in memory wins.
      if (!state.failures.has(appId)) state.failures.set(appId, stored ?? null);
      return state.failures.get(appId) ?? undefined;
    },
  };
}

export function createDrainView(read: () => StateData | undefined): DrainView {
  return {
    since: (agentId) => read()?.drains.get(agentId),
    all: () => new Map(read()?.drains ?? []),
  };
}
