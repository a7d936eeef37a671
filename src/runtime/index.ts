// Public surface of the runtime: the TaskDriver contract and its implementations.
export * from './driver.js';
export { createWasmDriver, defaultFuelBudget, type WasmDriverOptions } from './wasm/index.js';
export { createMockDriver, MockLabels, type MockDriver } from './mock/index.js';
