// Public surface of the Wasm runtime: the driver factory and its options.
import { resumableTransformer } from './resumable-transformer.js';
export { createWasmDriver, defaultFuelBudget, type WasmDriverOptions } from './wasm-driver.js';
export { defaultModuleCaps, type ModuleCaps } from './check-module.js';
/** Resolves once this process can make sleeping modules resumable (binaryen loaded). */
export const resumableReady = (): Promise<void> => resumableTransformer.ready();
