// Applies health probe results from agents: keeps each instance's healthCheckResults, emits
// Marathon's health events, and kills instances that failed `maxConsecutiveFailures` in a row.
import type { HealthMessage } from '../bus/index.js';
import type { HealthResult, Instance } from '../domain/index.js';
import { currentTaskId, toTimestamp } from '../domain/index.js';
import type { Clock, Logger } from '../lib/index.js';
import type { AppCache } from './app-cache.js';
import type { AgentCommands } from './agent-commands.js';
import type { InstanceTracker } from './instance-tracker.js';
import type { EventHub } from './services.js';

export interface HealthHandler {
  handle(message: HealthMessage): Promise<void>;
}

export function createHealthHandler(options: {
  cache: AppCache;
  tracker: InstanceTracker;
  commands: AgentCommands;
  events: EventHub;
  clock: Clock;
  logger: Logger;
  /** Called after every change so the evaluation loop runs soon (for `appIds` only, if given). */
  onChange: (appIds?: string[]) => void;
}): HealthHandler {
  const { cache, tracker, commands, events, clock, logger, onChange } = options;
  return {
    async handle(message) {
      const instance = tracker.byTaskId(message.taskId);
      if (!instance || instance.condition !== 'Running') return;
      const app = cache.get(instance.appId);
      const check = app?.healthChecks[message.check];
      if (!app || !check) return;
      const at = toTimestamp(message.at);
      const results: HealthResult[] = app.healthChecks.map(
        (_, i) => instance.healthCheckResults[i] ?? { alive: false, consecutiveFailures: 0 },
      );
      const before = results[message.check] as HealthResult;
      // Failures before the first success are forgiven during the grace period.
      const startedMs = Date.parse(instance.startedAt ?? instance.conditionChangedAt);
      const isInGrace =
        !before.firstSuccess && clock.now() - startedMs < check.gracePeriodSeconds * 1000;
      if (!message.alive && isInGrace) return;
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
      const updated: Instance = { ...instance, healthCheckResults: results };
      await tracker.put([updated]);

      const wasHealthy =
        instance.healthCheckResults.length === results.length &&
        instance.healthCheckResults.every((r) => r.alive);
      const isHealthy = results.every((r) => r.alive);
      if (wasHealthy !== isHealthy) {
        await events.emit({
          eventType: 'health_status_changed_event',
          appId: app.id,
          instanceId: instance.instanceId,
          version: app.version,
          alive: isHealthy,
        });
        await events.emit({
          eventType: 'instance_health_changed_event',
          instanceId: instance.instanceId,
          runSpecId: app.id,
          healthy: isHealthy,
          runSpecVersion: instance.appVersion,
        });
        onChange([app.id]);
      }
      if (message.alive) return;
      await events.emit({
        eventType: 'failed_health_check_event',
        appId: app.id,
        taskId: instance.instanceId,
        healthCheck: check,
      });
      if (
        check.maxConsecutiveFailures > 0 &&
        after.consecutiveFailures >= check.maxConsecutiveFailures &&
        instance.agentId
      ) {
        const taskId = currentTaskId(instance);
        logger.info(
          { taskId, failures: after.consecutiveFailures, cause: message.cause },
          'killing unhealthy task',
        );
        await commands.kill(instance.agentId, taskId);
        await events.emit({
          eventType: 'unhealthy_instance_kill_event',
          appId: app.id,
          taskId,
          instanceId: instance.instanceId,
          version: app.version,
          reason: message.cause ?? 'health check failed',
          host: instance.host ?? '',
          slaveId: instance.agentId,
        });
      }
    },
  };
}
