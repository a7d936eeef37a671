// Public surface of deployment planning: plans computed from the original and target apps.
export * from './plan.js';
