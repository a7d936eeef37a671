// What a master event means to the balancer: news that takes a task out of rotation at once,
// and whether the apps must be re-read (anything that may add a backend or change a label).
import type { TaskNews } from './cluster-view.js';

/** States on the way to running: such a task is not a backend yet, and nothing to take out. */
const NOT_STOPPING = new Set(['TASK_RUNNING', 'TASK_STAGING', 'TASK_STARTING']);
/** Events about the stream or the scheduler, not about apps. */
const IRRELEVANT = new Set([
  'event_stream_attached',
  'event_stream_detached',
  'add_health_check_event',
  'remove_health_check_event',
  'failed_health_check_event',
]);

export interface EventMeaning {
  news?: TaskNews;
  shouldResync: boolean;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function meaningOf(event: Record<string, unknown>): EventMeaning {
  const type = str(event.eventType) ?? '';
  switch (type) {
    case 'status_update_event': {
      const taskId = str(event.taskId);
      const status = str(event.taskStatus);
      if (taskId && status && !NOT_STOPPING.has(status))
        return { news: { kind: 'stopping', taskId, reason: status }, shouldResync: true };
      return { shouldResync: true };
    }
    case 'health_status_changed_event': {
      const instanceId = str(event.instanceId) ?? str(event.taskId);
      if (instanceId && event.alive === false)
        return { news: { kind: 'unhealthy', instanceId }, shouldResync: true };
      return { shouldResync: true };
    }
    case 'instance_health_changed_event': {
      const instanceId = str(event.instanceId);
      if (instanceId && event.healthy === false)
        return { news: { kind: 'unhealthy', instanceId }, shouldResync: true };
      return { shouldResync: true };
    }
    case 'unhealthy_instance_kill_event': {
      const taskId = str(event.taskId);
      if (taskId)
        return {
          news: { kind: 'stopping', taskId, reason: 'killed as unhealthy' },
          shouldResync: true,
        };
      return { shouldResync: true };
    }
    default:
      return { shouldResync: !IRRELEVANT.has(type) };
  }
}
