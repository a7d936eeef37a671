// Builders of apps, agents and instances with Marathon's defaults, for tests and benchmarks.
import type { Agent, AppDefinition, Instance } from '../domain/index.js';

const VERSION = '2026-01-01T00:00:00.000Z';

/** A Wasm app with Marathon's defaults; `overrides` win. */
export function makeApp(overrides: Partial<AppDefinition> = {}): AppDefinition {
  return {
    id: '/app',
    cmd: 'app.wasm',
    cpus: 0.1,
    mem: 32,
    disk: 0,
    gpus: 0,
    instances: 1,
    env: {},
    labels: {},
    fetch: [],
    constraints: [],
    healthChecks: [],
    readinessChecks: [],
    portDefinitions: [],
    requirePorts: false,
    networks: [{ mode: 'host' }],
    backoffSeconds: 1,
    backoffFactor: 1.15,
    maxLaunchDelaySeconds: 300,
    upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
    unreachableStrategy: { inactiveAfterSeconds: 0, expungeAfterSeconds: 0 },
    killSelection: 'YOUNGEST_FIRST',
    dependencies: [],
    executor: '',
    version: VERSION,
    versionInfo: { lastScalingAt: VERSION, lastConfigChangeAt: VERSION },
    ...overrides,
  };
}

/** An active wasm agent with 4 cpus, 4 GiB memory and disk, ports 31000-31009, all free. */
export function makeAgent(overrides: Partial<Agent> = {}): Agent {
  const total = overrides.total ?? {
    cpus: 4,
    memMiB: 4096,
    diskMiB: 4096,
    ports: [[31000, 31009]],
  };
  const agentId = overrides.agentId ?? 'agent-1';
  return {
    agentId,
    hostname: `${agentId}.example`,
    attributes: {},
    capabilities: ['wasm'],
    total,
    free: { ...total, ports: [...total.ports] },
    runningTaskIds: [],
    registeredAt: VERSION,
    lastHeartbeatAt: VERSION,
    state: 'active',
    ...overrides,
  };
}

/** A running instance of `/app` on `agent-1`; `overrides` win. */
export function makeInstance(overrides: Partial<Instance> = {}): Instance {
  const instanceId = overrides.instanceId ?? 'app.instance-1';
  return {
    instanceId,
    appId: '/app',
    appVersion: VERSION,
    goal: 'Running',
    condition: 'Running',
    incarnation: 1,
    agentId: 'agent-1',
    host: 'agent-1.example',
    ports: [],
    resources: { cpus: 0.1, memMiB: 32, diskMiB: 0 },
    createdAt: VERSION,
    conditionChangedAt: VERSION,
    healthCheckResults: [],
    lastStatusSeq: 0,
    launchNotBefore: 0,
    ...overrides,
  };
}
