// Public surface of the runtime: the TaskDriver contract and its implementations. The mock
// driver, for tests, is imported from ./mock/index.js: an agent process has no use for it.
export * from './driver.js';
export { createWasmDriver, defaultFuelBudget, type WasmDriverOptions } from './wasm/index.js';
