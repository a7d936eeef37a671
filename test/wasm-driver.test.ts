// Runs the TaskDriver conformance suite against the Wasm driver (real modules from wasm-tasks/)
// and against the mock driver.
import { silentLogger } from '../src/lib/index.js';
import { createMockDriver, createWasmDriver, MockLabels } from '../src/runtime/index.js';
import { wasmTaskSpec } from '../wasm-tasks/fixtures.js';
import { describeDriverConformance } from './support/driver-conformance.js';

describeDriverConformance('wasm', {
  create: () => createWasmDriver({ logger: silentLogger(), poolSize: 2 }),
  fixtures: {
    printsHelloAndExits0: ({ taskId, onLog }) => wasmTaskSpec({ module: 'hello', taskId, onLog }),
    exits3: ({ taskId, onLog }) => wasmTaskSpec({ module: 'exit-code', taskId, onLog }),
    runsForever: ({ taskId, onLog }) => wasmTaskSpec({ module: 'service', taskId, onLog }),
  },
});

const mockSpec = (
  taskId: string,
  onLog: (s: 'stdout' | 'stderr', l: string) => void,
  labels: Record<string, string>,
) => ({
  taskId,
  kind: 'wasm' as const,
  sandboxDir: '/nonexistent',
  cmd: 'mock.wasm',
  env: {},
  limits: { cpus: 0.1, memMiB: 16, diskMiB: 16, killGracePeriodMs: 0 },
  ports: [],
  labels,
  onLog,
});

describeDriverConformance('mock', {
  create: () => createMockDriver(),
  fixtures: {
    printsHelloAndExits0: ({ taskId, onLog }) =>
      mockSpec(taskId, onLog, { [MockLabels.log]: 'hello', [MockLabels.exitAfterMs]: '1' }),
    exits3: ({ taskId, onLog }) =>
      mockSpec(taskId, onLog, { [MockLabels.exitAfterMs]: '1', [MockLabels.exitCode]: '3' }),
    runsForever: ({ taskId, onLog }) => mockSpec(taskId, onLog, {}),
  },
});
