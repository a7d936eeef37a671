// Public surface of the Wasm runtime: the driver factory and its options. The driver itself is
// loaded on first use (lazy-driver.ts): an idle agent holds none of the runtime's modules.
export { createWasmDriver } from './lazy-driver.js';
export type { WasmDriverOptions } from './wasm-driver.js';
export { defaultFuelBudget } from './default-fuel.js';
export { defaultModuleCaps, type ModuleCaps } from './check-module.js';

/** Resolves once this process can make sleeping modules resumable (binaryen loaded). */
export const resumableReady = async (): Promise<void> =>
  (await import('./resumable-transformer.js')).resumableTransformer.ready();
