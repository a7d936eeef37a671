// Wiring of the agent role: drivers for the task kinds this agent allows, then the agent loop.
import path from 'node:path';
import type { Bus } from '../bus/index.js';
import { ConfigError, type AgentConfig } from '../config.js';
import type { Clock, Logger } from '../lib/index.js';
import { enableOptimizingCompiler } from '../lib/optimizing-compiler.js';
import type { TaskDriver } from '../runtime/driver.js';
import { createWasmDriver } from '../runtime/index.js';
import { startAgent, type RunningAgent } from './agent.js';
import { createHandlerMetrics, type HandlerMetrics } from './handler-metrics.js';
import { checkCidrs } from './fetch-policy.js';
import { optimizeOnFirstLaunch } from './optimize-on-first-launch.js';
import { checkAgentLimits, defaultAgentLimits, type AgentLimits } from './task-limits.js';

export async function createDrivers(options: {
  config: Pick<
    AgentConfig,
    | 'allowCommands'
    | 'allowUnsandboxedCommands'
    | 'hostAccess'
    | 'containerizer'
    | 'containerRuntime'
    | 'resources'
    | 'cpuLimit'
    | 'wasmFuel'
    | 'wasmTimeoutMs'
    | 'wasmPrewarm'
    | 'workDir'
  >;
  logger: Logger;
  /** Handler-mode requests' figures (the agent's metric snapshot). */
  handlerMetrics?: HandlerMetrics;
}): Promise<TaskDriver[]> {
  const { config, logger } = options;
  // Wasm is always on; a warm worker per cpu keeps launches fast (the driver caps it at the
  // machine's cores).
  const drivers: TaskDriver[] = [
    createWasmDriver({
      logger,
      poolSize: Math.max(1, Math.ceil(config.resources.cpus)),
      defaultFuel: config.wasmFuel,
      defaultTimeoutMs: config.wasmTimeoutMs,
      cpuLimit: config.cpuLimit,
      // Binaryen's helper when a sleeping module first needs it, unless asked (issue 14).
      shouldPrewarmResumable: config.wasmPrewarm === true,
      onRequest: (_taskId, figures) => options.handlerMetrics?.onRequest(figures),
    }),
  ];
  if (config.allowCommands) {
    const { createCommandDriver, SandboxUnavailableError } =
      await import('../runtime/command/index.js');
    // Without --allow-unsandboxed-commands a missing bubblewrap stops the agent here; with it,
    // the driver says loudly that command tasks run unsandboxed.
    try {
      drivers.push(
        await createCommandDriver({
          logger,
          stateDir: path.join(config.workDir, 'command-state'),
          useBubblewrap: config.allowUnsandboxedCommands ? 'auto' : true,
          cpuLimit: config.cpuLimit,
        }),
      );
    } catch (error) {
      if (!(error instanceof SandboxUnavailableError)) throw error;
      throw new ConfigError(
        `--allow-commands: ${error.message}. Install bubblewrap, or add --allow-unsandboxed-commands to run command tasks without a sandbox (unsafe: they see the host's files and network)`,
      );
    }
  }
  if (config.containerizer) {
    const { createContainerDriver, detectContainerEngine } =
      await import('../runtime/container/index.js');
    if (await detectContainerEngine(config.containerizer, { logger })) {
      drivers.push(
        createContainerDriver({
          logger,
          engine: config.containerizer,
          runtime: config.containerRuntime,
          cpuLimit: config.cpuLimit,
          stateDir: path.join(config.workDir, 'container-state'),
          hostAccess: config.hostAccess,
        }),
      );
    } else {
      logger.warn(
        { engine: config.containerizer },
        'no working container engine; container tasks disabled',
      );
    }
  }
  return drivers;
}

/** The agent's limits from its flags; a default over its maximum stops the agent at start. */
export function agentLimitsOf(
  config: Pick<
    AgentConfig,
    'wasmFuel' | 'wasmFuelMax' | 'wasmTimeoutMs' | 'wasmTimeoutSecondsMax' | 'wasmMemMaxMiB'
  >,
): AgentLimits {
  const limits: AgentLimits = {
    fuel: config.wasmFuel ?? defaultAgentLimits.fuel,
    fuelMax: config.wasmFuelMax,
    timeoutSeconds: Math.ceil((config.wasmTimeoutMs ?? 0) / 1000),
    timeoutSecondsMax: config.wasmTimeoutSecondsMax,
    memMaxMiB: config.wasmMemMaxMiB,
  };
  const problem = checkAgentLimits(limits);
  if (problem) throw new ConfigError(problem);
  return limits;
}

/** The fetch policy from the agent's flags; a range that does not parse stops the agent at start. */
function fetchPolicyOf(config: Pick<AgentConfig, 'allowFetchFrom' | 'fetchCacheMaxMiB'>) {
  const problem = checkCidrs(config.allowFetchFrom);
  if (problem) throw new ConfigError(problem);
  return { allowFrom: config.allowFetchFrom, cacheMaxBytes: config.fetchCacheMaxMiB * 1024 * 1024 };
}

/**
 * Loaded only with `--ca`: lib/tls-client brings undici, whose first use compiles its Wasm
 * HTTP parser (fetch-artifacts.ts keeps it off the agent's launch path for that reason).
 */
async function tlsClient(caFile: string) {
  const { loadTlsClient } = await import('../lib/tls-client.js');
  return loadTlsClient(caFile);
}

export async function runAgent(options: {
  config: Omit<AgentConfig, 'redisUrl' | 'joinToken'> & { masterUrl?: string };
  bus: Bus;
  clock: Clock;
  logger: Logger;
  /** The id the master gave this agent (credentials.ts); absent for an agent without identity. */
  agentId?: string;
}): Promise<RunningAgent> {
  const { config, bus, clock, logger } = options;
  const handlerMetrics = createHandlerMetrics();
  return startAgent({
    bus,
    agentId: options.agentId,
    // bin/pacer starts the agent without V8's optimizing compiler: its first launch turns it on.
    drivers: (await createDrivers({ config, logger, handlerMetrics })).map((driver) =>
      optimizeOnFirstLaunch(driver, enableOptimizingCompiler),
    ),
    handlerMetrics,
    hostname: config.hostname,
    attributes: config.attributes,
    resources: config.resources,
    reservations: config.reservations,
    workDir: path.resolve(config.workDir),
    masterUrl: config.masterUrl,
    ...(config.transport.caFile
      ? { httpsAgent: (await tlsClient(config.transport.caFile)).httpsAgent }
      : {}),
    clock,
    logger,
    offerIntervalMs: config.offerIntervalMs,
    limits: agentLimitsOf(config),
    fetch: fetchPolicyOf(config),
    logLimits: {
      linesPerSecond: config.logLinesPerSecond,
      lineBurst: config.logLinesPerSecond * 10,
      bytesPerSecond: config.logBytesPerSecond,
      byteBurst: config.logBytesPerSecond * 10,
    },
    hostAccess: config.hostAccess,
    outbox: { maxBytes: config.outboxMaxMiB * 1024 * 1024 },
  });
}
