// Instance → Marathon Task JSON (BEHAVIOUR.md (d)): the Mesos state of its condition, the agent
// as `slaveId`, and `stagedAt`/`startedAt`/`version`/`ports` only while the task is active.
import { currentTaskId, isActive, toMesosState } from '../../../domain/index.js';
import type { AppDefinition, Instance, MesosTaskState } from '../../../domain/index.js';

/** Marathon's Task JSON. */
export interface TaskJson {
  appId: string;
  id: string;
  host: string;
  state: MesosTaskState;
  role: string;
  healthCheckResults: Record<string, unknown>[];
  ipAddresses: { ipAddress: string; protocol: 'IPv4' | 'IPv6' }[];
  ports: number[];
  servicePorts: number[];
  localVolumes: unknown[];
  slaveId?: string;
  stagedAt?: string;
  startedAt?: string;
  version?: string;
  /** Pacer's own, only when asked for (`?fuel=true`): fuel a metered Wasm task has used. */
  fuelUsed?: number;
}

/**
 * True when an instance has a task to show. A Scheduled instance waits for an offer and has
 * no task yet (Marathon lists it in the queue, not among tasks).
 */
export function hasTask(instance: Instance): boolean {
  return instance.condition !== 'Scheduled';
}

function ipAddressesOf(host: string | undefined): TaskJson['ipAddresses'] {
  if (!host) return [];
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) return [{ ipAddress: host, protocol: 'IPv4' }];
  if (host.includes(':')) return [{ ipAddress: host, protocol: 'IPv6' }];
  return [];
}

/** The app's service ports: the ports of its port definitions or container port mappings. */
export function servicePortsOf(app: AppDefinition | undefined): number[] {
  if (!app) return [];
  if (app.portDefinitions) return app.portDefinitions.map((p) => p.port);
  return (app.container?.portMappings ?? []).map((m) => m.servicePort ?? 0);
}

/**
 * Fuel of an instance's current task: its final figure once it ended (its status carried it),
 * else the running figure its agent last reported (`running`), else undefined.
 */
export function taskFuelOf(
  instance: Instance,
  running?: (taskId: string) => number | undefined,
): number | undefined {
  const taskId = currentTaskId(instance);
  if (instance.lastTaskFuel?.taskId === taskId) return instance.lastTaskFuel.fuelUsed;
  return running?.(taskId);
}

/**
 * The Task JSON of an instance's current task. `fuelOf` adds Pacer's `fuelUsed` (asked for
 * with `?fuel=true`): Marathon's clients never ask, so they never see a field Marathon lacks.
 */
export function toTaskJson(
  instance: Instance,
  servicePorts: number[],
  fuelOf?: (instance: Instance) => number | undefined,
): TaskJson {
  const isLive = isActive(instance.condition);
  const task: TaskJson = {
    appId: instance.appId,
    id: currentTaskId(instance),
    host: instance.host ?? '',
    state: toMesosState(instance.condition),
    role: '*',
    healthCheckResults: instance.healthCheckResults.map((h) => ({
      alive: h.alive,
      consecutiveFailures: h.consecutiveFailures,
      ...(h.firstSuccess === undefined ? {} : { firstSuccess: h.firstSuccess }),
      ...(h.lastSuccess === undefined ? {} : { lastSuccess: h.lastSuccess }),
      ...(h.lastFailure === undefined ? {} : { lastFailure: h.lastFailure }),
      ...(h.lastFailureCause === undefined ? {} : { lastFailureCause: h.lastFailureCause }),
      instanceId: instance.instanceId,
    })),
    ipAddresses: ipAddressesOf(instance.host),
    ports: isLive ? instance.ports : [],
    servicePorts,
    localVolumes: [],
  };
  if (instance.agentId !== undefined) task.slaveId = instance.agentId;
  if (isLive) {
    if (instance.stagedAt !== undefined) task.stagedAt = instance.stagedAt;
    if (instance.startedAt !== undefined) task.startedAt = instance.startedAt;
    task.version = instance.appVersion;
  }
  const fuelUsed = fuelOf?.(instance);
  if (fuelUsed !== undefined) task.fuelUsed = fuelUsed;
  return task;
}
