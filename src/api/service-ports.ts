// Service ports as Marathon assigns them: each `portDefinitions[].port` (or, with container
// networking, `portMappings[].servicePort`) of 0 gets a port of [10000, 20000] no other app holds;
// a non-zero port is kept as given. Done at the edge before the orchestrator stores the spec, so
// the app, its tasks (`servicePorts`) and the answer to `POST /v2/apps` all show the port.
import { ValidationError, countPorts, servicePortsHeld } from '../domain/index.js';
import type { AppSpec } from '../domain/index.js';
import type { LiveState, OrchestratorPort } from './ports.js';
import type { ReadModel } from './read-model.js';

/** Marathon's `--local_port_min` / `--local_port_max` defaults. */
export const SERVICE_PORT_RANGE = { min: 10_000, max: 20_000 } as const;

/** True when the spec has a 0 service port to assign (never with `requirePorts`). */
function needsServicePorts(spec: AppSpec): boolean {
  if (spec.requirePorts) return false;
  return (
    (spec.portDefinitions ?? []).some((d) => d.port === 0) ||
    (spec.container?.portMappings ?? []).some((m) => (m.servicePort ?? 0) === 0)
  );
}

/**
 * `specs` with every 0 service port replaced by the lowest free port of the range, free meaning
 * neither `taken` (held by another app) nor held by any spec. With `requirePorts` a port is a
 * literal host port, so a 0 there stays 0 (any host port; no service port is reserved for it).
 * `from`: the caller knows every port below it taken (the leader's index of held ports), so the
 * walk starts there. Throws a 422 when the range is used up. Pure.
 */
export function assignServicePorts(
  specs: AppSpec[],
  options: {
    taken: (port: number) => boolean;
    range?: { min: number; max: number };
    from?: number;
  },
): AppSpec[] {
  const range = options.range ?? SERVICE_PORT_RANGE;
  const used = new Set<number>();
  for (const spec of specs) for (const port of servicePortsHeld(spec)) used.add(port);
  let next = Math.max(range.min, options.from ?? range.min);
  const nextFree = (appId: string): number => {
    while (next <= range.max && (used.has(next) || options.taken(next))) next++;
    if (next > range.max) {
      throw new ValidationError([
        {
          path: '/portDefinitions',
          errors: [`no free service port left in [${range.min}, ${range.max}] for app ${appId}`],
        },
      ]);
    }
    used.add(next);
    return next;
  };
  return specs.map((spec) => {
    if (!needsServicePorts(spec)) return spec;
    const assigned: AppSpec = { ...spec };
    if (spec.portDefinitions) {
      assigned.portDefinitions = spec.portDefinitions.map((d) =>
        d.port === 0 ? { ...d, port: nextFree(spec.id) } : d,
      );
    }
    if (spec.container?.portMappings) {
      assigned.container = {
        ...spec.container,
        portMappings: spec.container.portMappings.map((m) =>
          (m.servicePort ?? 0) === 0 ? { ...m, servicePort: nextFree(spec.id) } : m,
        ),
      };
    }
    return assigned;
  });
}

/**
 * Assigns service ports to `specs` and runs `use` with them (unchanged when none asks for one).
 * The ports stay reserved until `use` settles, by which time the change is stored (or refused):
 * two changes racing through the API never pick the same free port.
 */
export type ServicePortAssigner = <T>(
  specs: AppSpec[],
  use: (assigned: AppSpec[]) => Promise<T>,
) => Promise<T>;

/**
 * Assigns service ports against the apps not being changed: from the leader's index of held
 * ports when it holds state (no scan of the apps per change), else from the read model's
 * snapshot (a master without state; its writes are refused or relayed anyway).
 */
export function createServicePortAssigner(source: {
  reads: ReadModel;
  live?: LiveState;
}): ServicePortAssigner {
  /** Ports assigned to changes not yet settled → how many hold each. */
  const reserved = new Map<number, number>();

  /** How many apps hold each port, and each app by id: from memory, else a snapshot. */
  const holdings = async (): Promise<{
    holders: (port: number) => number;
    app: (id: string) => Pick<AppSpec, 'portDefinitions' | 'container'> | undefined;
    /** Every port of the range below it is held by some app. */
    firstUnheld: () => number;
  }> => {
    const { live } = source;
    if (live && live.revision() !== undefined)
      return {
        holders: (port) => live.servicePortHolders(port),
        app: (id) => live.app(id),
        firstUnheld: () => live.firstUnheldServicePort(SERVICE_PORT_RANGE.min),
      };
    const apps = new Map((await source.reads.snapshot()).apps.map((app) => [app.id, app]));
    const counts = new Map<number, number>();
    for (const app of apps.values()) countPorts(counts, servicePortsHeld(app), 1);
    return {
      holders: (port) => counts.get(port) ?? 0,
      app: (id) => apps.get(id),
      firstUnheld: () => SERVICE_PORT_RANGE.min,
    };
  };

  return async (specs, use) => {
    if (!specs.some(needsServicePorts)) return use(specs);
    const { holders, app, firstUnheld } = await holdings();
    // The changing apps' current ports are theirs to keep or free: they count for no one.
    const ownHeld = new Map<number, number>();
    for (const spec of specs) countPorts(ownHeld, servicePortsHeld(app(spec.id) ?? {}), 1);
    const taken = (port: number) => reserved.has(port) || holders(port) > (ownHeld.get(port) ?? 0);
    // Below the first port no app holds, a port is free only to the app holding it.
    const from = Math.min(firstUnheld(), ...ownHeld.keys());
    // No await from here to `reserve`: the check and the reservation are one step.
    const assigned = assignServicePorts(specs, { taken, from });
    // Given ports too: until stored they are in no index either.
    const held = assigned.flatMap(servicePortsHeld);
    countPorts(reserved, held, 1);
    try {
      return await use(assigned);
    } finally {
      countPorts(reserved, held, -1);
    }
  };
}

/** The orchestrator with service ports assigned to every app a change creates or replaces. */
export function withServicePorts(
  orchestrator: OrchestratorPort,
  assign: ServicePortAssigner,
): OrchestratorPort {
  return {
    deploy: (change, options) =>
      assign(change.apps, (apps) => orchestrator.deploy({ ...change, apps }, options)),
    killTasks: (taskIds, options) => orchestrator.killTasks(taskIds, options),
    cancelDeployment: (id, options) => orchestrator.cancelDeployment(id, options),
    resetDelay: (appId) => orchestrator.resetDelay(appId),
    updateGroups: (records) => orchestrator.updateGroups(records),
  };
}
