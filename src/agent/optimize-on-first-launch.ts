// A task driver that turns V8's optimizing compiler on when it first starts or recovers a task
// (lib/optimizing-compiler.ts: bin/pacer starts the agent without it, issue 14). From then on
// the agent's launch path, its task threads and the tasks' host calls are optimized as usual.
import type { TaskDriver } from '../runtime/driver.js';

export function optimizeOnFirstLaunch(driver: TaskDriver, enable: () => void): TaskDriver {
  return {
    kind: driver.kind,
    ...(driver.makesSandbox ? { makesSandbox: true } : {}),
    start: (spec) => {
      enable();
      return driver.start(spec);
    },
    wait: (taskId) => driver.wait(taskId),
    stop: (taskId) => driver.stop(taskId),
    destroy: (taskId) => driver.destroy(taskId),
    inspect: (taskId) => driver.inspect(taskId),
    ...(driver.fuelUsed ? { fuelUsed: (taskId: string) => driver.fuelUsed?.(taskId) } : {}),
    recover: (handle, onLog) => {
      enable();
      return driver.recover(handle, onLog);
    },
    close: () => driver.close(),
  };
}
