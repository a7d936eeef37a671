// Wiring of the agent role: drivers for the task kinds this agent allows, then the agent loop.
import path from 'node:path';
import type { Bus } from '../bus/index.js';
import type { AgentConfig } from '../config.js';
import type { Clock, Logger } from '../lib/index.js';
import type { TaskDriver } from '../runtime/driver.js';
import { createWasmDriver } from '../runtime/index.js';
import { startAgent, type RunningAgent } from './agent.js';

export async function createDrivers(options: {
  config: Pick<
    AgentConfig,
    | 'allowCommands'
    | 'containerizer'
    | 'containerRuntime'
    | 'resources'
    | 'wasmFuel'
    | 'wasmTimeoutMs'
    | 'workDir'
  >;
  logger: Logger;
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
    }),
  ];
  if (config.allowCommands) {
    const { createCommandDriver } = await import('../runtime/command/index.js');
    drivers.push(
      await createCommandDriver({ logger, stateDir: path.join(config.workDir, 'command-state') }),
    );
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
          stateDir: path.join(config.workDir, 'container-state'),
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

export async function runAgent(options: {
  config: Omit<AgentConfig, 'redisUrl' | 'joinToken'> & { masterUrl?: string };
  bus: Bus;
  clock: Clock;
  logger: Logger;
  /** The id the master gave this agent (credentials.ts); absent for an agent without identity. */
  agentId?: string;
}): Promise<RunningAgent> {
  const { config, bus, clock, logger } = options;
  return startAgent({
    bus,
    agentId: options.agentId,
    drivers: await createDrivers({ config, logger }),
    hostname: config.hostname,
    attributes: config.attributes,
    resources: config.resources,
    workDir: path.resolve(config.workDir),
    masterUrl: config.masterUrl,
    clock,
    logger,
    offerIntervalMs: config.offerIntervalMs,
  });
}
