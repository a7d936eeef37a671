// Public surface of the Wasm runtime: the driver factory and its options.
export { createWasmDriver, defaultFuelBudget, type WasmDriverOptions } from './wasm-driver.js';
export { defaultModuleCaps, type ModuleCaps } from './check-module.js';
