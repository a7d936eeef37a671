// The parts of the master's `/v2/apps?embed=apps.tasks&embed=apps.readiness` answer the balancer
// reads, checked field by field: the answer is data from the network, never trusted by shape.

/** One task as the balancer sees it. */
export interface TaskSnapshot {
  id: string;
  host: string;
  state: string;
  ports: number[];
  /** `alive` of each health check result, in order; empty when none reported yet. */
  healthAlive: boolean[];
}

/** One app as the balancer sees it. */
export interface AppSnapshot {
  id: string;
  /** Labels as an own-property-safe map (a label named `__proto__` is just a key). */
  labels: Map<string, string>;
  servicePorts: number[];
  hasHealthChecks: boolean;
  /** Task ids a readiness check said are not ready (during a deployment). */
  notReady: Set<string>;
  /** `versionInfo.lastConfigChangeAt` (or `version`): decides claims no incumbent holds. */
  configChangedAt: string;
  tasks: TaskSnapshot[];
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const isPort = (v: unknown): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v > 0 && v < 65536;
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function labelsOf(value: unknown): Map<string, string> {
  const labels = new Map<string, string>();
  if (!isRecord(value)) return labels;
  for (const key of Object.keys(value)) {
    const label = value[key];
    if (typeof label === 'string') labels.set(key, label);
  }
  return labels;
}

function taskOf(value: unknown): TaskSnapshot | undefined {
  if (!isRecord(value)) return undefined;
  const id = str(value.id);
  const host = str(value.host);
  if (!id || !host) return undefined;
  return {
    id,
    host,
    state: str(value.state),
    ports: list(value.ports).filter(isPort),
    healthAlive: list(value.healthCheckResults)
      .filter(isRecord)
      .map((r) => r.alive === true),
  };
}

function servicePortsOf(app: Record<string, unknown>): number[] {
  const ports = list(app.servicePorts).filter(isPort);
  if (ports.length > 0) return ports;
  return list(app.portDefinitions)
    .filter(isRecord)
    .map((d) => d.port)
    .filter(isPort);
}

/** The apps of a `/v2/apps` answer; entries that are not apps are skipped. */
export function parseAppsAnswer(body: unknown): AppSnapshot[] {
  if (!isRecord(body)) throw new Error('the master answered /v2/apps without an object');
  const apps: AppSnapshot[] = [];
  for (const app of list(body.apps)) {
    if (!isRecord(app) || typeof app.id !== 'string') continue;
    const notReady = new Set<string>();
    for (const result of list(app.readinessCheckResults)) {
      if (isRecord(result) && result.ready !== true && typeof result.taskId === 'string')
        notReady.add(result.taskId);
    }
    const versionInfo = isRecord(app.versionInfo) ? app.versionInfo : {};
    apps.push({
      id: app.id,
      labels: labelsOf(app.labels),
      servicePorts: servicePortsOf(app),
      hasHealthChecks: list(app.healthChecks).length > 0,
      notReady,
      configChangedAt: str(versionInfo.lastConfigChangeAt) || str(app.version),
      tasks: list(app.tasks)
        .map(taskOf)
        .filter((t): t is TaskSnapshot => t !== undefined),
    });
  }
  return apps;
}

/**
 * True when `task` of `app` may take traffic: running, every health check alive (an app with
 * health checks and no result yet is not healthy yet), and not marked not-ready.
 */
export function isServing(app: AppSnapshot, task: TaskSnapshot): boolean {
  if (task.state !== 'TASK_RUNNING') return false;
  if (app.hasHealthChecks && (task.healthAlive.length === 0 || task.healthAlive.includes(false)))
    return false;
  return !app.notReady.has(task.id);
}
