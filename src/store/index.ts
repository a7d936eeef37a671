// Public surface of the store: repository interfaces and the two ways to open one.
export * from './store.js';
export { createPostgresStore } from './postgres-store.js';
export { createPgliteStore } from './pglite-store.js';
export { StoreDecodeError } from './decode.js';
export { FencedError, createFencedStore } from './fenced-store.js';
export type { Fence } from './fenced-store.js';
