// Public surface of the evaluation loop: the loop, and the pure pass it runs (for replay).
export { createEvaluationLoop } from './evaluation-loop.js';
export type { EvaluationLoop, EvaluationLoopOptions } from './evaluation-loop.js';
export { planPass } from './plan-pass.js';
export type { PassPlan, PlannedIntent } from './plan-pass.js';
export type { PassSnapshot, PendingDeploy } from './snapshot.js';
