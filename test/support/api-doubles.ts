// Test doubles of the ports the API calls (api/ports.ts: orchestrator, event hub, log reader), small
// and predictable, plus a helper that builds the API on a real in-memory PGlite store.
import { randomUUID } from 'node:crypto';
import type { Hono } from 'hono';
import { createApi } from '../../src/api/index.js';
import type { ApiDeps } from '../../src/api/index.js';
import {
  AppLockedError,
  ConflictError,
  NotFoundError,
  newInstanceId,
  parseTaskId,
  toTimestamp,
} from '../../src/domain/index.js';
import type {
  AppDefinition,
  Deployment,
  DeploymentResult,
  Instance,
  RolePolicy,
} from '../../src/domain/index.js';
import { silentLogger } from '../../src/lib/index.js';
import type { AppChange, KillOptions, LogLine, MarathonEvent } from '../../src/domain/index.js';
import type {
  EventHubPort as EventHub,
  LogReaderPort as LogReader,
  OrchestratorPort as Orchestrator,
  RolePoliciesPort,
} from '../../src/api/index.js';
import { createPgliteStore } from '../../src/store/index.js';
import type { EventHub as MasterEventHub } from '../../src/master/services.js';
import { contractProblems } from './api-contract.js';
import type { Store } from '../../src/store/index.js';

/** A clock the test moves by hand. */
export function fakeClock(start = Date.parse('2026-01-02T03:04:05.678Z')) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

/** Orchestrator double: stores versions and deployments directly, kills by changing conditions. */
export interface OrchestratorDouble extends Orchestrator {
  /** Every change received, in order. */
  changes: { change: AppChange; force: boolean }[];
  /** Keep deployments in the store (to test locks); by default they finish at once. */
  holdDeployments: boolean;
}

export function createOrchestratorDouble(options: {
  store: Store;
  clock: { now(): number };
  /** Where the events a change announces (`api_post_event`) go, as the master stores them. */
  events?: Pick<EventHub, 'emit'>;
}): OrchestratorDouble {
  const { store, clock, events } = options;
  let last = 0;
  const nextVersion = () => toTimestamp((last = Math.max(clock.now(), last + 1)));
  const configOf = (app: Partial<AppDefinition>) => {
    const { instances: _i, version: _v, versionInfo: _vi, ...rest } = app;
    return JSON.stringify(rest, Object.keys(rest).sort());
  };

  const double: OrchestratorDouble = {
    changes: [],
    holdDeployments: false,
    async deploy(change, { force }) {
      double.changes.push({ change, force });
      for (const spec of change.isCreation ? change.apps : []) {
        if (await store.apps.get(spec.id)) {
          throw new ConflictError(`An app with id [${spec.id}] already exists.`);
        }
      }
      const affected = [
        ...change.apps.map((a) => a.id),
        ...(change.remove ?? []),
        ...(change.restart ?? []),
      ];
      const locking = (await store.deployments.list()).filter((d) =>
        d.affectedApps.some((id) => affected.includes(id)),
      );
      if (locking.length > 0 && !force) throw new AppLockedError(locking.map((d) => d.id));
      for (const d of locking) await store.deployments.delete(d.id);
      const version = nextVersion();
      const original: AppDefinition[] = [];
      const target: AppDefinition[] = [];
      for (const spec of change.apps) {
        const current = await store.apps.get(spec.id);
        if (current) original.push(current);
        const isScaleOnly = current !== undefined && configOf(current) === configOf(spec);
        const app: AppDefinition = {
          ...spec,
          version,
          versionInfo: {
            lastScalingAt: version,
            lastConfigChangeAt: isScaleOnly ? current.versionInfo.lastConfigChangeAt : version,
          },
        };
        await store.apps.put(app);
        target.push(app);
      }
      for (const id of change.restart ?? []) {
        const current = await store.apps.get(id);
        if (!current) throw new NotFoundError(`App '${id}' does not exist`);
        const app = {
          ...current,
          version,
          versionInfo: { ...current.versionInfo, lastConfigChangeAt: version },
        };
        await store.apps.put(app);
        target.push(app);
      }
      for (const id of change.remove ?? []) {
        for (const instance of await store.instances.listByApp(id)) {
          await store.instances.delete(instance.instanceId);
        }
        await store.apps.delete(id);
      }
      const deployment: Deployment = {
        id: randomUUID(),
        version,
        affectedApps: affected,
        steps: affected.map((app) => ({ actions: [{ action: 'ScaleApplication' as const, app }] })),
        currentStep: 1,
        original,
        target,
        createdAt: version,
      };
      for (const record of change.groups ?? []) await store.groups.put(record);
      if (double.holdDeployments) await store.deployments.put(deployment);
      for (const event of change.announce?.(target) ?? []) await events?.emit(event);
      return { deploymentId: deployment.id, version };
    },
    async killTasks(taskIds, kill: KillOptions) {
      const killed: Instance[] = [];
      for (const taskId of taskIds) {
        const parsed = parseTaskId(taskId);
        const instance = parsed && (await store.instances.get(parsed.instanceId));
        if (!instance) continue;
        const after: Instance = { ...instance, condition: 'Killed', message: 'KILLED: on request' };
        if (kill.wipe || kill.scale) await store.instances.delete(instance.instanceId);
        else await store.instances.put(after);
        killed.push(after);
      }
      let deployment: DeploymentResult | undefined;
      if (kill.scale && killed.length > 0) {
        const appId = killed[0]!.appId;
        const app = await store.apps.get(appId);
        if (app) {
          const { version: _v, versionInfo: _vi, ...spec } = app;
          deployment = await double.deploy(
            { apps: [{ ...spec, instances: Math.max(0, app.instances - killed.length) }] },
            { force: true },
          );
        }
      }
      return { killed, deployment };
    },
    async cancelDeployment(id, { force }) {
      const deployment = await store.deployments.get(id);
      if (!deployment) throw new NotFoundError(`DeploymentPlan ${id} does not exist`);
      await store.deployments.delete(id);
      if (force) return undefined;
      return { deploymentId: randomUUID(), version: nextVersion() };
    },
    async resetDelay() {
      return false;
    },
    async updateGroups(records) {
      for (const record of records) await store.groups.put(record);
    },
  };
  return double;
}

/** EventHub double: keeps every event in memory with increasing ids and fans out at once. */
export interface EventHubDouble extends EventHub, Pick<MasterEventHub, 'stage'> {
  events: { id: number; event: MarathonEvent }[];
  /** Resolves at once: events are kept as they are emitted. */
  flush(): Promise<void>;
}

export function createEventHubDouble(clock: { now(): number }): EventHubDouble {
  const listeners = new Set<(event: MarathonEvent, id: number) => void>();
  const hub: EventHubDouble = {
    events: [],
    // Emit delivers synchronously here, so there is never anything to wait for.
    async flush() {},
    async emit(event) {
      const full = {
        ...event,
        timestamp: event.timestamp ?? toTimestamp(clock.now()),
      } as MarathonEvent;
      const id = hub.events.length + 1;
      hub.events.push({ id, event: full });
      for (const listener of listeners) listener(full, id);
    },
    // Stored with the caller's write in the real hub; here kept when published.
    stage(inputs) {
      return {
        count: inputs.length,
        append: async () => {},
        publish: () => inputs.forEach((input) => void hub.emit(input)),
      };
    },
    async subscribe(listener, options) {
      for (const { id, event } of hub.events) {
        if (options?.afterId !== undefined && id > options.afterId) listener(event, id);
      }
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return hub;
}

/** LogReader double: lines per task id, written by the test; `follow` yields later writes. */
export interface LogReaderDouble extends LogReader {
  write(taskId: string, line: Omit<LogLine, 'timestamp'> & { timestamp?: string }): void;
}

export function createLogReaderDouble(): LogReaderDouble {
  const lines = new Map<string, LogLine[]>();
  const waiters = new Map<string, Set<(line: LogLine) => void>>();
  return {
    write(taskId, line) {
      const full: LogLine = { timestamp: '2026-01-02T03:04:05.678Z', ...line };
      lines.set(taskId, [...(lines.get(taskId) ?? []), full]);
      for (const waiter of waiters.get(taskId) ?? []) waiter(full);
    },
    async read(taskId, { stream, tail }) {
      const all = (lines.get(taskId) ?? []).filter((l) => !stream || l.stream === stream);
      return tail === 0 ? [] : all.slice(-tail);
    },
    async *follow(taskId, { stream, tail, signal }) {
      const queue: LogLine[] = await this.read(taskId, { tail, ...(stream ? { stream } : {}) });
      let wake: (() => void) | undefined;
      const waiter = (line: LogLine) => {
        if (stream && line.stream !== stream) return;
        queue.push(line);
        wake?.();
      };
      const set = waiters.get(taskId) ?? new Set();
      set.add(waiter);
      waiters.set(taskId, set);
      signal.addEventListener('abort', () => wake?.());
      try {
        while (!signal.aborted) {
          const next = queue.shift();
          if (next) yield next;
          else await new Promise<void>((resolve) => (wake = resolve));
        }
      } finally {
        set.delete(waiter);
      }
    },
  };
}

/** An instance of `appId` in a given condition, as the tracker would store it. */
export function instanceOf(
  app: Pick<AppDefinition, 'id' | 'version'>,
  overrides: Partial<Instance> = {},
): Instance {
  return {
    instanceId: newInstanceId(app.id),
    appId: app.id,
    appVersion: app.version,
    goal: 'Running',
    condition: 'Running',
    incarnation: 1,
    agentId: 'agent-1',
    host: '10.0.0.5',
    ports: [31000],
    resources: { cpus: 0.1, memMiB: 32, diskMiB: 0 },
    createdAt: '2026-01-02T03:04:05.678Z',
    stagedAt: '2026-01-02T03:04:05.678Z',
    startedAt: '2026-01-02T03:04:06.000Z',
    conditionChangedAt: '2026-01-02T03:04:06.000Z',
    healthCheckResults: [],
    lastStatusSeq: 1,
    launchNotBefore: 0,
    ...overrides,
  };
}

/** Everything a route test needs: the API on a fresh in-memory store with doubles behind it. */
export interface TestApi {
  app: Hono;
  store: Store;
  orchestrator: OrchestratorDouble;
  events: EventHubDouble;
  logs: LogReaderDouble;
  clock: ReturnType<typeof fakeClock>;
  deps: ApiDeps;
  /** `app.request` with a JSON body (and Marathon clients' habit of always sending the header). */
  json(method: string, path: string, body?: unknown): Promise<Response>;
  close(): Promise<void>;
}

/** Quota and weights per role in memory, as the master's applier keeps them. */
export function createRolePoliciesDouble(): RolePoliciesPort {
  const policies = new Map<string, RolePolicy>();
  const set = (role: string, part: Partial<RolePolicy>) => {
    const next = { ...(policies.get(role) ?? { role }), ...part };
    if (next.quota === undefined) delete next.quota;
    if (next.weight === undefined) delete next.weight;
    if (next.quota === undefined && next.weight === undefined) policies.delete(role);
    else policies.set(role, next);
  };
  return {
    list: () => [...policies.values()].sort((a, b) => (a.role < b.role ? -1 : 1)),
    get: (role) => policies.get(role),
    setQuota: async (role, quota) => set(role, { quota: quota ?? undefined }),
    setWeight: async (role, weight) => set(role, { weight: weight ?? undefined }),
  };
}

export async function createTestApi(overrides: Partial<ApiDeps> = {}): Promise<TestApi> {
  const store = await createPgliteStore({});
  const clock = fakeClock();
  const events = createEventHubDouble(clock);
  const orchestrator = createOrchestratorDouble({ store, clock, events });
  const logs = createLogReaderDouble();
  const deps: ApiDeps = {
    store,
    orchestrator,
    events,
    logs,
    roles: createRolePoliciesDouble(),
    logger: silentLogger(),
    clock,
    info: {
      version: '0.1.0',
      leaderHostPort: 'master.test:8080',
      publicUrl: 'http://master.test:8080',
    },
    // Tests write to the store directly, so every read goes to the store.
    readCacheMs: 0,
    ...overrides,
  };
  const app = checkingContract(createApi(deps));
  return {
    app,
    store,
    orchestrator,
    events,
    logs,
    clock,
    deps,
    json: (method, path, body) =>
      Promise.resolve(
        app.request(path, {
          method,
          headers: { 'Content-Type': 'application/json' },
          ...(body === undefined
            ? {}
            : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
        }),
      ),
    close: () => store.close(),
  };
}

/**
 * Makes `app.request` check every response against the OpenAPI document: a response that the
 * document does not describe fails the test that received it.
 */
export function checkingContract(app: Hono): Hono {
  const request = app.request.bind(app);
  app.request = async (...args: Parameters<Hono['request']>) => {
    const [input, init] = args;
    const response = await request(...args);
    const method = (
      init?.method ?? (input instanceof Request ? input.method : 'GET')
    ).toUpperCase();
    const url = input instanceof Request ? input.url : String(input);
    const problems = await contractProblems({ method, url, response });
    if (problems.length > 0)
      throw new Error(`Response breaks the OpenAPI contract:\n${problems.join('\n')}`);
    return response;
  };
  return app;
}
