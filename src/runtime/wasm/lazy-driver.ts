// The Wasm driver, loaded on its first use: until then an idle agent holds none of the runtime's
// modules (worker pool and threads, the handler-mode HTTP server, the socket host, binaryen's
// helper client, the module checks; ~1 MiB and Node's http server, dgram and child_process
// with them, issue 14). The first launch (or recovery) pays the load, a few milliseconds; an
// agent that prewarms its threads loads it at once.
import type { TaskDriver } from '../driver.js';
import type { WasmDriverOptions } from './wasm-driver.js';

export function createWasmDriver(options: WasmDriverOptions): TaskDriver {
  let driver: TaskDriver | undefined;
  let loading: Promise<TaskDriver> | undefined;
  const load = (): Promise<TaskDriver> =>
    (loading ??= import('./wasm-driver.js').then((runtime) => {
      driver = runtime.createWasmDriver(options);
      return driver;
    }));
  if (options.shouldPrewarmResumable ?? true)
    load().catch((error: unknown) =>
      options.logger.error({ err: error }, 'cannot load the Wasm runtime'),
    );
  return {
    kind: 'wasm',
    makesSandbox: true,
    start: async (spec) => (await load()).start(spec),
    wait: async (taskId) => (await load()).wait(taskId),
    stop: async (taskId) => (await load()).stop(taskId),
    destroy: async (taskId) => (await load()).destroy(taskId),
    // Before the first load there is no task to know.
    inspect: (taskId) => driver?.inspect(taskId),
    fuelUsed: (taskId) => driver?.fuelUsed?.(taskId),
    recover: async (handle, onLog) => (await load()).recover(handle, onLog),
    async close() {
      if (loading) await (await loading).close();
    },
  };
}
