// Environment and flags → one typed, validated Config, read once at start-up.
import os from 'node:os';
import type { HostAccess, Resources } from './domain/index.js';
import {
  isDockerParameterKey,
  parseAttributes,
  parseHostVolumeGrant,
  parseResources,
} from './domain/index.js';

export interface CommonConfig {
  logLevel: string;
  /** Key prefix of every bus stream, so several clusters can share one Redis. */
  busPrefix: string;
  /** How often agents offer (heartbeat). */
  offerIntervalMs: number;
}

export interface MasterConfig extends CommonConfig {
  port: number;
  host: string;
  databaseUrl: string;
  redisUrl: string;
  /** Base URL agents and users reach this master at (artifact URIs). */
  publicUrl: string;
  agentTimeoutMs: number;
  placement: 'binpack' | 'spread';
}

export interface AgentConfig extends CommonConfig {
  redisUrl: string;
  masterUrl: string;
  hostname: string;
  attributes: Record<string, string>;
  resources: Resources;
  workDir: string;
  allowCommands: boolean;
  // Issue 11 (sandbox): what the operator lets tasks reach beyond their sandbox.
  /** Run command tasks without bubblewrap where it does not work (else the agent refuses to start). */
  allowUnsandboxedCommands: boolean;
  /** `--allow-host-volume` and `--allow-docker-parameter`, advertised in offers. */
  hostAccess: HostAccess;
  containerizer?: 'podman' | 'docker';
  /** OCI runtime for the container engine (`runc` where the engine's default does not work). */
  containerRuntime?: string;
  wasmFuel?: bigint;
  wasmTimeoutMs?: number;
}

export interface DevConfig
  extends
    Omit<MasterConfig, 'databaseUrl' | 'redisUrl'>,
    Omit<AgentConfig, 'redisUrl' | 'masterUrl'> {
  dataDir: string;
}

/** Parsed command-line flags; repeatable flags (`multiple: true`) give arrays. */
export type Flags = Record<string, string | boolean | string[] | undefined>;

export class ConfigError extends Error {}

function int(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new ConfigError(`${name} must be a whole number >= 0, got '${value}'`);
  return n;
}

function required(name: string, value: string | undefined): string {
  if (!value) throw new ConfigError(`${name} is required`);
  return value;
}

/** `value` when it is one of `allowed` (or undefined), else a ConfigError naming `name`. */
function oneOf<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined || (allowed as readonly string[]).includes(value))
    return value as T | undefined;
  throw new ConfigError(`${name} must be ${allowed.join(' or ')}, got '${value}'`);
}

function str(flag: Flags[string]): string | undefined {
  return typeof flag === 'string' ? flag : undefined;
}

/** A repeatable flag's values, or else the comma-separated list in `fallback` (an env var). */
function list(flag: Flags[string], fallback: string | undefined): string[] {
  if (Array.isArray(flag)) return flag;
  if (typeof flag === 'string') return [flag];
  return (fallback ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
}

/** `--allow-host-volume /srv/data:ro` (repeatable) and `--allow-docker-parameter shm-size`. */
function hostAccessPart(env: NodeJS.ProcessEnv, flags: Flags): HostAccess {
  try {
    const volumes = list(flags['allow-host-volume'], env.PACER_ALLOW_HOST_VOLUMES).map(
      parseHostVolumeGrant,
    );
    const dockerParameters = list(
      flags['allow-docker-parameter'],
      env.PACER_ALLOW_DOCKER_PARAMETERS,
    );
    for (const key of dockerParameters) {
      if (!isDockerParameterKey(key))
        throw new Error(
          `Invalid docker parameter '${key}' (expected an option name like shm-size)`,
        );
    }
    return { volumes, dockerParameters };
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

/** What this machine has, less a reserve for the agent itself; `--resources` overrides parts. */
export function defaultResources(): Resources {
  const memMiB = Math.floor(os.totalmem() / 1024 / 1024);
  return {
    cpus: os.cpus().length,
    memMiB: Math.max(0, memMiB - Math.min(1024, Math.floor(memMiB / 4))),
    diskMiB: 10_240,
    ports: [[31000, 32000]],
  };
}

function common(env: NodeJS.ProcessEnv): CommonConfig {
  return {
    logLevel: env.LOG_LEVEL ?? 'info',
    busPrefix: env.PACER_BUS_PREFIX ?? 'pacer:',
    offerIntervalMs: int('PACER_OFFER_INTERVAL_MS', env.PACER_OFFER_INTERVAL_MS, 1_000),
  };
}

function masterPart(env: NodeJS.ProcessEnv, flags: Flags) {
  const port = int('PORT', str(flags.port) ?? env.PORT, 8080);
  const host = str(flags.host) ?? env.PACER_HOST ?? '0.0.0.0';
  const placement =
    oneOf('PACER_PLACEMENT', env.PACER_PLACEMENT, ['binpack', 'spread'] as const) ?? 'binpack';
  return {
    port,
    host,
    publicUrl:
      env.PACER_PUBLIC_URL ?? `http://${host === '0.0.0.0' ? os.hostname() : host}:${port}`,
    agentTimeoutMs: int('PACER_AGENT_TIMEOUT_MS', env.PACER_AGENT_TIMEOUT_MS, 10_000),
    placement,
  };
}

function agentPart(env: NodeJS.ProcessEnv, flags: Flags) {
  const containerizer = oneOf('--containerizer', str(flags.containerizer), [
    'podman',
    'docker',
  ] as const);
  const fuel = str(flags['wasm-fuel']) ?? env.PACER_WASM_FUEL;
  if (fuel !== undefined && !/^\d+$/.test(fuel))
    throw new ConfigError(`--wasm-fuel must be a whole number, got '${fuel}'`);
  const timeout = str(flags['wasm-timeout-seconds']) ?? env.PACER_WASM_TIMEOUT_SECONDS;
  let resources: Resources;
  let attributes: Record<string, string>;
  try {
    resources = {
      ...defaultResources(),
      ...parseResources(str(flags.resources) ?? env.PACER_RESOURCES ?? ''),
    };
    attributes = parseAttributes(str(flags.attributes) ?? env.PACER_ATTRIBUTES ?? '');
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  return {
    hostname: str(flags.hostname) ?? env.PACER_HOSTNAME ?? os.hostname(),
    attributes,
    resources,
    workDir: str(flags['work-dir']) ?? env.PACER_WORK_DIR ?? './.pacer/agent',
    allowCommands: flags['allow-commands'] === true || env.PACER_ALLOW_COMMANDS === '1',
    allowUnsandboxedCommands:
      flags['allow-unsandboxed-commands'] === true || env.PACER_ALLOW_UNSANDBOXED_COMMANDS === '1',
    hostAccess: hostAccessPart(env, flags),
    containerizer,
    containerRuntime: str(flags['container-runtime']) ?? env.PACER_CONTAINER_RUNTIME,
    wasmFuel: fuel === undefined ? undefined : BigInt(fuel),
    wasmTimeoutMs:
      timeout === undefined ? undefined : int('--wasm-timeout-seconds', timeout, 0) * 1000,
  };
}

export function loadMasterConfig(env: NodeJS.ProcessEnv, flags: Flags): MasterConfig {
  return {
    ...common(env),
    ...masterPart(env, flags),
    databaseUrl: required('DATABASE_URL', env.DATABASE_URL),
    redisUrl: required('REDIS_URL', env.REDIS_URL),
  };
}

export function loadAgentConfig(env: NodeJS.ProcessEnv, flags: Flags): AgentConfig {
  return {
    ...common(env),
    ...agentPart(env, flags),
    redisUrl: required('REDIS_URL', env.REDIS_URL),
    masterUrl: required('PACER_MASTER_URL', env.PACER_MASTER_URL),
  };
}

export function loadDevConfig(env: NodeJS.ProcessEnv, flags: Flags): DevConfig {
  const dataDir = str(flags['data-dir']) ?? env.PACER_DATA_DIR ?? './.pacer';
  const master = masterPart(env, flags);
  const agent = agentPart(env, { 'work-dir': `${dataDir}/agent`, ...flags });
  return {
    ...common(env),
    ...master,
    ...agent,
    publicUrl: env.PACER_PUBLIC_URL ?? `http://127.0.0.1:${master.port}`,
    dataDir,
  };
}
