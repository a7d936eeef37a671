// Applies health probe results from agents: keeps each instance's healthCheckResults, emits
// Marathon's health events, and kills instances that failed `maxConsecutiveFailures` in a row.
import type { HealthMessage } from '../bus/index.js';
import type { HealthResult } from '../domain/index.js';
import { currentTaskId, toTimestamp } from '../domain/index.js';
import type { Clock, Logger } from '../lib/index.js';
import type { AgentCommands } from './agent-commands.js';
import type { Applier, EventInput } from './applier/index.js';

export interface HealthHandler {
  handle(message: HealthMessage): Promise<void>;
}

export function createHealthHandler(options: {
  applier: Applier;
  commands: AgentCommands;
  clock: Clock;
  logger: Logger;
  /** Called after every change so the evaluation loop runs soon (for `appIds` only, if given). */
  onChange: (appIds?: string[]) => void;
}): HealthHandler {
  const { applier, commands, clock, logger, onChange } = options;
  const { instances, apps } = applier;

  /** The probe's effect on the instance as last applied; undefined when it has none. */
  function compute(message: HealthMessage) {
    const instance = instances.byTaskId(message.taskId);
    if (!instance || instance.condition !== 'Running') return undefined;
    const app = apps.get(instance.appId);
    const check = app?.healthChecks[message.check];
    if (!app || !check) return undefined;
    const at = toTimestamp(message.at);
    const results: HealthResult[] = app.healthChecks.map(
      (_, i) => instance.healthCheckResults[i] ?? { alive: false, consecutiveFailures: 0 },
    );
    const before = results[message.check] as HealthResult;
    // Failures before the first success are forgiven during the grace period.
    const startedMs = Date.parse(instance.startedAt ?? instance.conditionChangedAt);
    const isInGrace =
      !before.firstSuccess && clock.now() - startedMs < check.gracePeriodSeconds * 1000;
    if (!message.alive && isInGrace) return undefined;
    const after: HealthResult = message.alive
      ? {
          ...before,
          alive: true,
          consecutiveFailures: 0,
          firstSuccess: before.firstSuccess ?? at,
          lastSuccess: at,
        }
      : {
          ...before,
          alive: false,
          consecutiveFailures: before.consecutiveFailures + 1,
          lastFailure: at,
          lastFailureCause: message.cause,
        };
    results[message.check] = after;
    const wasHealthy =
      instance.healthCheckResults.length === results.length &&
      instance.healthCheckResults.every((r) => r.alive);
    const isHealthy = results.every((r) => r.alive);
    const events: EventInput[] = [];
    if (wasHealthy !== isHealthy) {
      events.push(
        {
          eventType: 'health_status_changed_event',
          appId: app.id,
          instanceId: instance.instanceId,
          version: app.version,
          alive: isHealthy,
        },
        {
          eventType: 'instance_health_changed_event',
          instanceId: instance.instanceId,
          runSpecId: app.id,
          healthy: isHealthy,
          runSpecVersion: instance.appVersion,
        },
      );
    }
    if (!message.alive) {
      events.push({
        eventType: 'failed_health_check_event',
        appId: app.id,
        taskId: instance.instanceId,
        healthCheck: check,
      });
    }
    const shouldKill =
      !message.alive &&
      check.maxConsecutiveFailures > 0 &&
      after.consecutiveFailures >= check.maxConsecutiveFailures &&
      instance.agentId !== undefined;
    return {
      instance,
      app,
      after,
      isChanged: wasHealthy !== isHealthy,
      shouldKill,
      intent: {
        source: 'health' as const,
        update: [
          {
            instance: { ...instance, healthCheckResults: results },
            revision: instances.revisionOf(instance.instanceId) ?? -1,
          },
        ],
        events,
      },
    };
  }

  return {
    async handle(message) {
      let outcome: ReturnType<typeof compute>;
      const result = await applier.update(() => {
        outcome = compute(message);
        return outcome?.intent;
      });
      if (!result || !outcome) return;
      const { instance, app, after, isChanged, shouldKill } = outcome;
      if (isChanged) onChange([app.id]);
      if (!shouldKill || !instance.agentId) return;
      const taskId = currentTaskId(instance);
      logger.info(
        { taskId, failures: after.consecutiveFailures, cause: message.cause },
        'killing unhealthy task',
      );
      await commands.kill(instance.agentId, taskId);
      // After the kill was sent, as Marathon reports it; the instance itself is unchanged.
      await applier.submit({
        source: 'health',
        events: [
          {
            eventType: 'unhealthy_instance_kill_event',
            appId: app.id,
            taskId,
            instanceId: instance.instanceId,
            version: app.version,
            reason: message.cause ?? 'health check failed',
            host: instance.host ?? '',
            slaveId: instance.agentId,
          },
        ],
      });
    },
  };
}
