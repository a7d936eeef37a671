// The API's JSON as the UI reads it (only the fields shown).

export interface App {
  id: string;
  instances: number;
  cpus: number;
  mem: number;
  disk: number;
  cmd?: string;
  labels?: Record<string, string>;
  tasksRunning?: number;
  tasksStaged?: number;
  tasksHealthy?: number;
  tasksUnhealthy?: number;
  deployments?: { id: string }[];
  version?: string;
}

export interface Task {
  id: string;
  appId: string;
  host: string;
  slaveId?: string;
  ports?: number[];
  state: string;
  startedAt?: string;
  stagedAt?: string;
  version?: string;
  healthCheckResults?: { alive: boolean }[];
  /** Pacer's own (asked for with `?fuel=true`): fuel a metered Wasm task used. */
  fuelUsed?: number;
}

export interface Deployment {
  id: string;
  version: string;
  affectedApps: string[];
  currentStep: number;
  totalSteps: number;
  currentActions: {
    action: string;
    app: string;
    readinessCheckResults?: { ready: boolean; name: string }[];
  }[];
}

export interface AgentResources {
  cpus: number;
  mem: number;
  disk: number;
  ports: string[];
}

export interface Agent {
  id: string;
  hostname: string;
  state: string;
  attributes: Record<string, string>;
  capabilities: string[];
  resources: AgentResources;
  free: AgentResources;
  /** `*` first, then each reserved role: what it holds, uses and has free on this agent. */
  resourcesByRole?: {
    role: string;
    total: AgentResources;
    used: AgentResources;
    free: AgentResources;
  }[];
  runningTasks: string[];
  lastHeartbeatAt: string;
  drain?: { state: 'draining' | 'drained'; since: string };
}

export interface QueueItem {
  app: { id: string };
  count: number;
  delay?: { timeLeftSeconds: number; overdue: boolean };
  since?: string;
  processedOffersSummary?: {
    processedOffersCount: number;
    unusedOffersCount: number;
    rejectSummaryLastOffers?: { reason: string; declined: number; processed: number }[];
  };
}

export interface LogLine {
  stream: 'stdout' | 'stderr';
  line: string;
  timestamp: string;
}
