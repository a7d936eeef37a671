// Applies task status updates from agents to the instance tracker. Delivery is at least once
// and unordered across restarts, so it is idempotent: repeated or older updates are ignored,
// and an ended task never comes back to life.
import type { StatusMessage } from '../bus/index.js';
import type { AppDefinition, Instance, TaskFailure } from '../domain/index.js';
import {
  fromMesosState,
  isActive,
  isTerminal,
  toMesosState,
  toTimestamp,
} from '../domain/index.js';
import type { Clock, Logger } from '../lib/index.js';
import type { Store } from '../store/index.js';
import type { AppCache } from './app-cache.js';
import type { AgentCommands } from './agent-commands.js';
import type { InstanceTracker } from './instance-tracker.js';
import type { LaunchQueue } from './launch-queue.js';
import type { EventHub } from './services.js';
import type { TaskMetrics } from './task-metrics.js';

export interface StatusHandler {
  handle(message: StatusMessage): Promise<void>;
}

export function createStatusHandler(options: {
  store: Store;
  /** The leader's apps: read on each status, without a query. */
  cache: AppCache;
  tracker: InstanceTracker;
  launchQueue: LaunchQueue;
  commands: AgentCommands;
  events: EventHub;
  metrics: TaskMetrics;
  clock: Clock;
  logger: Logger;
  /** Called after every change so the evaluation loop runs soon (for `appIds` only, if given). */
  onChange: (appIds?: string[]) => void;
}): StatusHandler {
  const { store, cache, tracker, launchQueue, commands, events, metrics, clock, logger, onChange } =
    options;

  async function emitChange(
    instance: Instance,
    app: AppDefinition | undefined,
    message: StatusMessage,
  ) {
    await events.emit({
      eventType: 'status_update_event',
      slaveId: message.agentId,
      taskId: message.taskId,
      taskStatus: toMesosState(instance.condition),
      message: message.message ?? '',
      appId: instance.appId,
      host: instance.host ?? '',
      ipAddresses: [],
      ports: instance.ports,
      version: app?.version ?? instance.appVersion,
    });
    await events.emit({
      eventType: 'instance_changed_event',
      instanceId: instance.instanceId,
      condition: instance.condition,
      runSpecId: instance.appId,
      agentId: message.agentId,
      host: instance.host ?? '',
      runSpecVersion: instance.appVersion,
    });
  }

  return {
    async handle(message) {
      const instance = tracker.byTaskId(message.taskId);
      if (!instance) {
        // A task the master does not know (expunged, or an old incarnation): make sure it ends.
        if (!isTerminal(fromMesosState(message.state)))
          await commands.kill(message.agentId, message.taskId);
        return;
      }
      if (message.seq <= instance.lastStatusSeq || isTerminal(instance.condition)) return;
      const condition = fromMesosState(message.state);
      const now = clock.now();
      const updated: Instance = {
        ...instance,
        condition,
        conditionChangedAt: toTimestamp(now),
        lastStatusSeq: message.seq,
        message: message.message,
        lastTaskFuel:
          isTerminal(condition) && message.fuelUsed !== undefined
            ? { taskId: message.taskId, fuelUsed: message.fuelUsed }
            : instance.lastTaskFuel,
        startedAt:
          condition === 'Running'
            ? (instance.startedAt ?? toTimestamp(message.at))
            : instance.startedAt,
        healthCheckResults: isActive(condition) ? instance.healthCheckResults : [],
      };
      const app = cache.get(instance.appId);
      if (isTerminal(condition) && updated.goal === 'Decommissioned')
        await tracker.remove([instance.instanceId]);
      else await tracker.put([updated]);

      if (isTerminal(condition)) {
        metrics.onTaskEnded({
          appId: instance.appId,
          state: message.state,
          fuelUsed: message.fuelUsed,
        });
      }
      if (app && isTerminal(condition)) launchQueue.onTerminal(app, condition);
      else if (app && isActive(condition)) launchQueue.onActive(app);
      if (isTerminal(condition) && condition !== 'Finished' && condition !== 'Killed') {
        const failure: TaskFailure = {
          appId: instance.appId,
          host: instance.host ?? '',
          message: message.message ?? '',
          state: message.state,
          taskId: message.taskId,
          timestamp: toTimestamp(message.at),
          version: instance.appVersion,
          slaveId: message.agentId,
        };
        await store.apps.setLastTaskFailure(failure);
        logger.info(
          { taskId: message.taskId, state: message.state, message: message.message },
          'task failed',
        );
      }
      await emitChange(updated, app, message);
      if (isTerminal(condition) || condition === 'Running') onChange([instance.appId]);
    },
  };
}
