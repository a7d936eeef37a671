// Public surface of deployments: plans computed from the original and target apps, and their
// pure step progress.
export * from './plan.js';
export * from './advance.js';
export * from './plan-json.js';
