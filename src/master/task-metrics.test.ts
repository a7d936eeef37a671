// Task counters: ended tasks by app and state, fuel summed per app.
import { describe, expect, it } from 'vitest';
import { createTaskMetrics } from './task-metrics.js';

describe('task metrics', () => {
  it('counts ended tasks by app and state and sums the fuel they used', () => {
    const metrics = createTaskMetrics();
    metrics.onTaskEnded({ appId: '/b', state: 'TASK_FINISHED', fuelUsed: 40 });
    metrics.onTaskEnded({ appId: '/a', state: 'TASK_FAILED', fuelUsed: 7 });
    metrics.onTaskEnded({ appId: '/b', state: 'TASK_FINISHED', fuelUsed: 2 });
    metrics.onTaskEnded({ appId: '/b', state: 'TASK_KILLED' });
    expect(metrics.counters()).toEqual([
      { name: 'task_fuel_used_total', labels: { app_id: '/a' }, value: 7 },
      { name: 'task_fuel_used_total', labels: { app_id: '/b' }, value: 42 },
      { name: 'tasks_ended_total', labels: { app_id: '/a', state: 'TASK_FAILED' }, value: 1 },
      { name: 'tasks_ended_total', labels: { app_id: '/b', state: 'TASK_FINISHED' }, value: 2 },
      { name: 'tasks_ended_total', labels: { app_id: '/b', state: 'TASK_KILLED' }, value: 1 },
    ]);
  });

  it('shows no fuel counter for an app whose tasks reported no fuel', () => {
    const metrics = createTaskMetrics();
    metrics.onTaskEnded({ appId: '/cmd', state: 'TASK_FINISHED' });
    expect(metrics.counters().map((c) => c.name)).toEqual(['tasks_ended_total']);
  });
});
