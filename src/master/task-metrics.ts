// Counters of ended tasks kept by the leader: how many ended in each state and how much fuel
// metered Wasm tasks used, per app. Served by `/metrics` and `/metrics/prometheus`.
import type { MesosTaskState, TaskCounter } from '../domain/index.js';

export type { TaskCounter } from '../domain/index.js';

export interface TaskMetrics {
  /**
   * Counts one ended task. Called once per task by the status handler, which drops repeated
   * updates, so counting here needs no deduplication of its own.
   */
  onTaskEnded(options: { appId: string; state: MesosTaskState; fuelUsed?: number }): void;
  /** Every counter, sorted by name and labels. Counters start at zero when a master starts. */
  counters(): TaskCounter[];
}

export function createTaskMetrics(): TaskMetrics {
  const ended = new Map<string, { appId: string; state: MesosTaskState; value: number }>();
  const fuel = new Map<string, number>();
  return {
    onTaskEnded({ appId, state, fuelUsed }) {
      const key = `${appId}\n${state}`;
      const entry = ended.get(key) ?? { appId, state, value: 0 };
      entry.value++;
      ended.set(key, entry);
      if (fuelUsed !== undefined) fuel.set(appId, (fuel.get(appId) ?? 0) + fuelUsed);
    },
    counters() {
      const endedCounters = [...ended.values()].map(({ appId, state, value }): TaskCounter => ({
        name: 'tasks_ended_total',
        labels: { app_id: appId, state },
        value,
      }));
      const fuelCounters = [...fuel].map(([appId, value]): TaskCounter => ({
        name: 'task_fuel_used_total',
        labels: { app_id: appId },
        value,
      }));
      const byLabels = (a: TaskCounter, b: TaskCounter) =>
        JSON.stringify(a.labels).localeCompare(JSON.stringify(b.labels));
      return [...fuelCounters.sort(byLabels), ...endedCounters.sort(byLabels)];
    },
  };
}
