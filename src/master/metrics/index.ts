// Public surface of the master's metrics (the only home of prom-client).
export { createMasterMetrics } from './master-metrics.js';
export type { MasterMetrics } from './master-metrics.js';
export type { AgentMetricsSink } from './agent-metrics.js';
