// Marathon's events for an instance whose condition changed: `status_update_event` (the task's
// Mesos state) and `instance_changed_event`. Built in one place for the writers that change
// conditions: placements (Provisioned, shown as TASK_STAGING), agents' status updates, liveness.
import type { Instance } from '../domain/index.js';
import { currentTaskId, toMesosState } from '../domain/index.js';
import type { EventInput } from './services.js';

/** What the event tells besides the instance: who reported it, and why. */
export interface ChangeSource {
  /** The agent that reported it (the instance's own by default). */
  agentId?: string;
  /** The task (the instance's current one by default). */
  taskId?: string;
  message?: string;
  /** The app version shown (the instance's by default). */
  version?: string;
}

export function statusUpdateEvent(instance: Instance, source: ChangeSource = {}): EventInput {
  return {
    eventType: 'status_update_event',
    slaveId: source.agentId ?? instance.agentId ?? '',
    taskId: source.taskId ?? currentTaskId(instance),
    taskStatus: toMesosState(instance.condition),
    message: source.message ?? '',
    appId: instance.appId,
    host: instance.host ?? '',
    ipAddresses: [],
    ports: instance.ports,
    version: source.version ?? instance.appVersion,
  };
}

export function instanceChangedEvent(instance: Instance, source: ChangeSource = {}): EventInput {
  return {
    eventType: 'instance_changed_event',
    instanceId: instance.instanceId,
    condition: instance.condition,
    runSpecId: instance.appId,
    agentId: source.agentId ?? instance.agentId ?? '',
    host: instance.host ?? '',
    runSpecVersion: instance.appVersion,
  };
}

/** Both of Marathon's events for a change of `instance`'s condition. */
export function conditionEvents(instance: Instance, source: ChangeSource = {}): EventInput[] {
  return [statusUpdateEvent(instance, source), instanceChangedEvent(instance, source)];
}
