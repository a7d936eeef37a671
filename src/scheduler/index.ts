// Public surface of the scheduler: pure placement (`schedule`), the reconciler, the constraint
// validator, and their types. Everything else here is internal to the pipeline.
export { schedule } from './schedule.js';
export { reconcile, isReady, isUpToDate } from './reconcile.js';
export type { ReconcileInput, ReconcileResult } from './reconcile.js';
export { validateConstraints, ConstraintMessage } from './constraint/validate-constraints.js';
export { ConstraintOperator } from './constraint/compile-constraint.js';
export * from './types.js';
