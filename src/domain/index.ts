// Public surface of the domain: plain types and pure helpers, no I/O.
export * from './agent.js';
export * from './app.js';
export * from './app-change.js';
export * from './assert-never.js';
export * from './command-line.js';
export * from './container-values.js';
export * from './deployment.js';
export * from './errors.js';
export * from './failure-reason.js';
export * from './grants.js';
export * from './ids.js';
export * from './instance.js';
export * from './marathon-event.js';
export * from './resources.js';
export * from './task-kind.js';
export * from './task-state.js';
export * from './time.js';
