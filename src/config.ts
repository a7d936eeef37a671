// Environment and flags → one typed, validated Config, read once at start-up.
import os from 'node:os';
import type { Resources } from './domain/index.js';
import { parseAttributes, parseResources } from './domain/index.js';

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
  /** Agent identity (README "Agents and their identity"). */
  requireAgentIdentity: boolean;
  /** How long an agent join token stays usable. */
  agentTokenTtlMs: number;
}

export interface AgentConfig extends CommonConfig {
  redisUrl: string;
  masterUrl: string;
  hostname: string;
  attributes: Record<string, string>;
  resources: Resources;
  workDir: string;
  allowCommands: boolean;
  containerizer?: 'podman' | 'docker';
  /** OCI runtime for the container engine (`runc` where the engine's default does not work). */
  containerRuntime?: string;
  wasmFuel?: bigint;
  wasmTimeoutMs?: number;
  /** One-time token exchanged at the master for this agent's own credentials (first start only). */
  joinToken?: string;
}

export interface DevConfig
  extends
    Omit<MasterConfig, 'databaseUrl' | 'redisUrl'>,
    Omit<AgentConfig, 'redisUrl' | 'masterUrl'> {
  dataDir: string;
}

export type Flags = Record<string, string | boolean | undefined>;

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

function str(flag: string | boolean | undefined): string | undefined {
  return typeof flag === 'string' ? flag : undefined;
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
    containerizer,
    containerRuntime: str(flags['container-runtime']) ?? env.PACER_CONTAINER_RUNTIME,
    wasmFuel: fuel === undefined ? undefined : BigInt(fuel),
    wasmTimeoutMs:
      timeout === undefined ? undefined : int('--wasm-timeout-seconds', timeout, 0) * 1000,
  };
}

/** Agent identity, on the master: `--require-agent-identity`, join token lifetime. */
function agentIdentityPart(env: NodeJS.ProcessEnv, flags: Flags) {
  return {
    requireAgentIdentity:
      flags['require-agent-identity'] === true || env.PACER_REQUIRE_AGENT_IDENTITY === '1',
    agentTokenTtlMs:
      int('PACER_AGENT_TOKEN_TTL_SECONDS', env.PACER_AGENT_TOKEN_TTL_SECONDS, 3_600) * 1000,
  };
}

export function loadMasterConfig(env: NodeJS.ProcessEnv, flags: Flags): MasterConfig {
  return {
    ...common(env),
    ...masterPart(env, flags),
    ...agentIdentityPart(env, flags),
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
    // The environment is the better place: a flag shows in `ps` to every user of the machine.
    joinToken: str(flags['join-token']) ?? (env.PACER_JOIN_TOKEN || undefined),
  };
}

export function loadDevConfig(env: NodeJS.ProcessEnv, flags: Flags): DevConfig {
  const dataDir = str(flags['data-dir']) ?? env.PACER_DATA_DIR ?? './.pacer';
  const master = masterPart(env, flags);
  const agent = agentPart(env, { 'work-dir': `${dataDir}/agent`, ...flags });
  return {
    ...common(env),
    ...master,
    ...agentIdentityPart(env, flags),
    ...agent,
    publicUrl: env.PACER_PUBLIC_URL ?? `http://127.0.0.1:${master.port}`,
    dataDir,
  };
}
