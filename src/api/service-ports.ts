// Service ports as Marathon assigns them: each `portDefinitions[].port` (or, with container
// networking, `portMappings[].servicePort`) of 0 gets a port of [10000, 20000] no other app holds;
// a non-zero port is kept as given. Done at the edge before the orchestrator stores the spec, so
// the app, its tasks (`servicePorts`) and the answer to `POST /v2/apps` all show the port.
import { ValidationError } from '../domain/index.js';
import type { AppDefinition, AppSpec } from '../domain/index.js';
import type { LiveState, OrchestratorPort } from './ports.js';
import type { ReadModel } from './read-model.js';

/** Marathon's `--local_port_min` / `--local_port_max` defaults. */
export const SERVICE_PORT_RANGE = { min: 10_000, max: 20_000 } as const;

/** The service ports an app holds (zeros are none). */
export function servicePortsHeld(app: AppDefinition | AppSpec): number[] {
  const ports = [
    ...(app.portDefinitions ?? []).map((d) => d.port),
    ...(app.container?.portMappings ?? []).map((m) => m.servicePort ?? 0),
  ];
  return ports.filter((port) => port !== 0);
}

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
 * held neither by `taken` (the other apps) nor by any spec. With `requirePorts` a port is a
 * literal host port, so a 0 there stays 0 (any host port; no service port is reserved for it).
 * Throws a 422 when the range is used up. Pure.
 */
export function assignServicePorts(
  specs: AppSpec[],
  options: { taken: Iterable<number>; range?: { min: number; max: number } },
): AppSpec[] {
  const range = options.range ?? SERVICE_PORT_RANGE;
  const used = new Set(options.taken);
  for (const spec of specs) for (const port of servicePortsHeld(spec)) used.add(port);
  let next = range.min;
  const nextFree = (appId: string): number => {
    while (next <= range.max && used.has(next)) next++;
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

/** Assigns service ports to specs; resolves with them (unchanged when none asks for one). */
export type ServicePortAssigner = (specs: AppSpec[]) => Promise<AppSpec[]>;

/**
 * Assigns service ports against the current apps (those not being changed): the leader's
 * memory when it holds state (no snapshot is indexed on the write path), else the read model's
 * snapshot. Two changes racing through the API may pick the same free port; the later one then
 * holds a duplicate until it is changed again (Marathon serialises this in its group manager).
 */
export function createServicePortAssigner(source: {
  reads: ReadModel;
  live?: LiveState;
}): ServicePortAssigner {
  const currentApps = async (): Promise<AppDefinition[]> =>
    source.live && source.live.revision() !== undefined
      ? source.live.apps()
      : (await source.reads.snapshot()).apps;
  return async (specs) => {
    if (!specs.some(needsServicePorts)) return specs;
    const changing = new Set(specs.map((s) => s.id));
    const apps = await currentApps();
    const taken = apps.filter((a) => !changing.has(a.id)).flatMap(servicePortsHeld);
    return assignServicePorts(specs, { taken });
  };
}

/** The orchestrator with service ports assigned to every app a change creates or replaces. */
export function withServicePorts(
  orchestrator: OrchestratorPort,
  assign: ServicePortAssigner,
): OrchestratorPort {
  return {
    deploy: async (change, options) =>
      orchestrator.deploy({ ...change, apps: await assign(change.apps) }, options),
    killTasks: (taskIds, options) => orchestrator.killTasks(taskIds, options),
    cancelDeployment: (id, options) => orchestrator.cancelDeployment(id, options),
    resetDelay: (appId) => orchestrator.resetDelay(appId),
  };
}
