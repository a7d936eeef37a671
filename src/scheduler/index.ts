// Public surface of the scheduler: pure placement (`schedule`) and its types.
export * from './schedule.js';
export * from './types.js';
