// Public surface of the applier: the one writer of instances, apps and deployments, and the
// views everything else reads them through.
export { createApplier } from './applier.js';
export type { Applier } from './applier.js';
export type { EventInput, Intent, IntentResult } from './intent.js';
export { IntentSource } from './intent.js';
export type { AppView, DrainView, HeldVersion, InstanceView, Versioned } from './state.js';
export type { RoleView } from './role-policies.js';
