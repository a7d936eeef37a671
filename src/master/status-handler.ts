// Turns task status updates from agents into intents for the applier. Delivery is at least once
// and unordered across restarts, so it is idempotent: repeated or older updates are ignored,
// and an ended task never comes back to life. Updates come in batches (one bus read): one
// intent per batch, because per update that was three store round trips, and 1,000 launches
// send 3,000 updates.
import type { StatusMessage } from '../bus/index.js';
import type { AppDefinition, Condition, Instance, TaskFailure } from '../domain/index.js';
import { fromMesosState, isActive, isTerminal, parseTaskId, toTimestamp } from '../domain/index.js';
import type { Clock, Logger } from '../lib/index.js';
import type { AgentCommands } from './agent-commands.js';
import type { Applier, EventInput, Intent } from './applier/index.js';
import { conditionEvents } from './instance-events.js';
import type { LaunchQueue } from './launch-queue.js';
import type { TaskMetrics } from './task-metrics.js';

export interface StatusHandler {
  /**
   * Applies updates in order, as if one by one, as one intent: the changed instances are stored
   * before any event, backoff or command follows. Idempotent; on rejection nothing of the batch
   * is applied, so it can be delivered again whole.
   */
  handleMany(messages: StatusMessage[]): Promise<void>;
  handle(message: StatusMessage): Promise<void>;
}

/** An end that counts as the app's last task failure (not a finish or a kill asked for). */
function isFailure(condition: Condition): boolean {
  return isTerminal(condition) && condition !== 'Finished' && condition !== 'Killed';
}

/** What one update did, kept until the batch's intent is applied. */
interface Applied {
  instance: Instance;
  app: AppDefinition | undefined;
  message: StatusMessage;
  condition: Condition;
}

function statusEvents({ instance, app, message }: Applied): EventInput[] {
  return conditionEvents(instance, {
    agentId: message.agentId,
    taskId: message.taskId,
    message: message.message,
    version: app?.version,
  });
}

/** Marathon's event for a task it does not know that ended; ids come from the task id. */
function unknownTerminated(message: StatusMessage, condition: Condition): EventInput {
  const instanceId = parseTaskId(message.taskId)?.instanceId ?? message.taskId;
  // `<app id with / as _>.instance-…`: path ids hold no `_`, so the app id reads back exactly.
  const safeAppId = instanceId.slice(0, Math.max(0, instanceId.lastIndexOf('.instance-')));
  return {
    eventType: 'unknown_instance_terminated_event',
    instanceId,
    runSpecId: `/${safeAppId.replaceAll('_', '/')}`,
    condition,
  };
}

function failureOf(instance: Instance, message: StatusMessage): TaskFailure {
  return {
    appId: instance.appId,
    host: instance.host ?? '',
    message: message.message ?? '',
    state: message.state,
    taskId: message.taskId,
    timestamp: toTimestamp(message.at),
    version: instance.appVersion,
    slaveId: message.agentId,
  };
}

export function createStatusHandler(options: {
  applier: Applier;
  launchQueue: LaunchQueue;
  commands: AgentCommands;
  metrics: TaskMetrics;
  clock: Clock;
  logger: Logger;
  /** Called after every change so the evaluation loop runs soon (for `appIds` only, if given). */
  onChange: (appIds?: string[]) => void;
}): StatusHandler {
  const { applier, launchQueue, commands, metrics, clock, logger, onChange } = options;
  const { instances, apps } = applier;

  /** The batch as an intent over the state as last applied, and what each update did. */
  function compute(messages: StatusMessage[]) {
    const now = clock.now();
    /** The batch's view: instance id → its latest state, null once removed. */
    const working = new Map<string, Instance | null>();
    const applied: Applied[] = [];
    const unknown: StatusMessage[] = [];
    for (const message of messages) {
      const tracked = instances.byTaskId(message.taskId);
      const instance = tracked && working.get(tracked.instanceId);
      const current = instance === undefined ? tracked : (instance ?? undefined);
      if (!current) {
        unknown.push(message);
        continue;
      }
      // Only the agent the task was placed on speaks for it (agent-reports.ts drops and counts
      // the rest before they get here; this guards every other caller).
      if (current.agentId !== message.agentId) continue;
      if (message.seq <= current.lastStatusSeq || isTerminal(current.condition)) continue;
      const condition = fromMesosState(message.state);
      const updated: Instance = {
        ...current,
        condition,
        conditionChangedAt: toTimestamp(now),
        lastStatusSeq: message.seq,
        message: message.message,
        lastTaskFuel:
          isTerminal(condition) && message.fuelUsed !== undefined
            ? { taskId: message.taskId, fuelUsed: message.fuelUsed }
            : current.lastTaskFuel,
        startedAt:
          condition === 'Running'
            ? (current.startedAt ?? toTimestamp(message.at))
            : current.startedAt,
        healthCheckResults: isActive(condition) ? current.healthCheckResults : [],
        readinessCheckResults: condition === 'Running' ? current.readinessCheckResults : undefined,
      };
      const isGone = isTerminal(condition) && updated.goal === 'Decommissioned';
      working.set(updated.instanceId, isGone ? null : updated);
      applied.push({ instance: updated, app: apps.get(updated.appId), message, condition });
    }
    const intent: Intent = { source: 'status', update: [], expunge: [], failures: [], events: [] };
    for (const [instanceId, instance] of working) {
      const revision = instances.revisionOf(instanceId) ?? -1;
      if (instance) intent.update?.push({ instance, revision });
      else intent.expunge?.push({ instanceId, revision });
    }
    // The store keeps one (the latest) failure per app.
    const failures = new Map<string, TaskFailure>();
    for (const { instance, message, condition } of applied) {
      if (isFailure(condition)) failures.set(instance.appId, failureOf(instance, message));
    }
    intent.failures = [...failures.values()];
    intent.events = applied.flatMap(statusEvents);
    return { intent, applied, unknown };
  }

  async function handleMany(messages: StatusMessage[]): Promise<void> {
    let outcome: ReturnType<typeof compute> | undefined;
    // A conflict means another writer changed one of these instances first: compute again
    // over what it wrote (updates already applied are then skipped by their sequence numbers).
    await applier.update(() => {
      outcome = compute(messages);
      return outcome.intent;
    });
    if (!outcome) return;
    const { applied, unknown } = outcome;
    for (const { instance, app, message, condition } of applied) {
      if (isTerminal(condition)) {
        metrics.onTaskEnded({
          appId: instance.appId,
          state: message.state,
          fuelUsed: message.fuelUsed,
        });
      }
      if (app && isTerminal(condition)) launchQueue.onTerminal(app, condition);
      else if (app && isActive(condition)) launchQueue.onActive(app);
      if (isFailure(condition)) {
        logger.info(
          { taskId: message.taskId, state: message.state, message: message.message },
          'task failed',
        );
      }
    }
    // A task the master does not know (expunged, or an old incarnation): make sure it ends,
    // and tell of one that did (Marathon's `unknown_instance_terminated_event`).
    const terminated: EventInput[] = [];
    for (const message of unknown) {
      const condition = fromMesosState(message.state);
      if (!isTerminal(condition)) await commands.kill(message.agentId, message.taskId);
      else terminated.push(unknownTerminated(message, condition));
    }
    if (terminated.length > 0) await applier.submit({ source: 'status', events: terminated });
    const changed = applied
      .filter(({ condition }) => isTerminal(condition) || condition === 'Running')
      .map(({ instance }) => instance.appId);
    if (changed.length > 0) onChange([...new Set(changed)]);
  }

  return {
    handleMany,
    handle: (message) => handleMany([message]),
  };
}
