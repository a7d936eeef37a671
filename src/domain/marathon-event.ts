// The shapes the master emits and the API serves: Marathon events, task log lines, counters.

/** A Marathon event: `eventType`, `timestamp` and the type's own fields. */
export interface MarathonEvent {
  eventType: string;
  timestamp: string;
  [field: string]: unknown;
}

/** One line a task wrote. */
export interface LogLine {
  stream: 'stdout' | 'stderr';
  line: string;
  /** ISO timestamp */
  timestamp: string;
}

/** One counter of one app, as the API renders it at `/metrics`. */
export interface TaskCounter {
  name: 'tasks_ended_total' | 'task_fuel_used_total' | 'agent_messages_dropped_total';
  labels: Record<string, string>;
  value: number;
}
