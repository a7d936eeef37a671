// Environment and flags → one typed, validated Config, read once at start-up.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { HostAccess, Resources, RoleResources } from './domain/index.js';
import {
  isDockerParameterKey,
  parseAttributes,
  parseHostVolumeGrant,
  agentResources,
  parseResourceSpec,
} from './domain/index.js';

export interface CommonConfig {
  logLevel: string;
  /** Key prefix of every bus stream, so several clusters can share one Redis. */
  busPrefix: string;
  /** How often agents offer (heartbeat). */
  offerIntervalMs: number;
}

/** API authentication (the `--insecure`, `--bootstrap-token-file` block below). */
export interface AuthConfig {
  /** `PACER_BOOTSTRAP_TOKEN` or the file's content: turns authentication on. */
  bootstrapToken?: string;
  /** Serving without authentication on a non-loopback address (`--insecure`; said loudly at start). */
  insecure: boolean;
}

/** TLS and the secrets key (the `--tls-cert`, `--ca` block below). */
export interface TransportConfig {
  /** Serve HTTPS with these PEM files (`--tls-cert`, `--tls-key`: both or neither). */
  tls?: { certFile: string; keyFile: string };
  /** PEM CA bundle verifying the master's HTTPS (`--ca`, `PACER_CA_FILE`): agents, relays. */
  caFile?: string;
  /** PEM CA bundle verifying a `rediss://` Redis (`--redis-ca`, `PACER_REDIS_CA_FILE`). */
  redisCaFile?: string;
  /** The key encrypting secrets (`PACER_SECRETS_KEY_FILE`); `pacer dev` makes one when absent. */
  secretsKeyFile?: string;
}

/** Caps that hold for every principal (`PACER_MAX_*`, `PACER_ARTIFACT_*`); API defaults when absent. */
export interface LimitsConfig {
  eventStreams?: { total: number; perPrincipal: number };
  logFollows?: { total: number; perPrincipal: number };
  artifactQuotaBytes?: number;
  /** How long an artifact stays unreferenced before it is collected (`PACER_ARTIFACT_GRACE_SECONDS`). */
  artifactGraceMs?: number;
}

export interface MasterConfig extends CommonConfig {
  port: number;
  host: string;
  auth: AuthConfig;
  transport: TransportConfig;
  limits: LimitsConfig;
  databaseUrl: string;
  redisUrl: string;
  /** Base URL agents and users reach this master at (artifact URIs). */
  publicUrl: string;
  agentTimeoutMs: number;
  /** The leader lease (`PACER_LEASE_TTL_MS`, `PACER_LEASE_RENEW_MS`); defaults when absent. */
  lease: { ttlMs?: number; renewMs?: number };
  /**
   * How often a follower refreshes its warm copy of the state (`PACER_STANDBY_REFRESH_MS`,
   * default 1000; 0: no warm copy, a newly elected leader loads the state cold).
   */
  standbyRefreshMs: number;
  /**
   * Added to this master's clock (`PACER_CLOCK_OFFSET_MS`, ± one day at most; 0 when absent):
   * fault injection for the chaos suite, a master whose clock is off. Leases never read it.
   */
  clockOffsetMs: number;
  placement: 'binpack' | 'spread';
  /** Agent identity (README "Agents and their identity"). */
  requireAgentIdentity: boolean;
  /** How long an agent join token stays usable. */
  agentTokenTtlMs: number;
}

export interface AgentConfig extends CommonConfig {
  transport: TransportConfig;
  redisUrl: string;
  masterUrl: string;
  hostname: string;
  attributes: Record<string, string>;
  /** Everything tasks may use, reserved resources included. */
  resources: Resources;
  /** Parts of `resources` reserved to roles (`--resources cpus(web):2;…`). */
  reservations: RoleResources[];
  /**
   * `--cpu-limit`: 'shares' (default) gives tasks CPU time in proportion to `cpus` when the
   * machine is busy; 'hard' also caps each task at `cpus` when it is idle.
   */
  cpuLimit: 'shares' | 'hard';
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
  /**
   * Start binaryen's helper and the resident threads at start (`PACER_WASM_PREWARM=1`) rather
   * than when a sleeping module first needs them: the first such launch is then quicker, and the
   * idle agent ~100 MiB bigger.
   */
  wasmPrewarm: boolean;
  // Issue 11, rules 5, 9, 10: maxima of task limits, log pacing, fetch policy.
  /** Most fuel a `PACER_WASM_FUEL` label may ask for. */
  wasmFuelMax: bigint;
  /** Longest `PACER_WASM_TIMEOUT_SECONDS` a label may ask for. */
  wasmTimeoutSecondsMax: number;
  /** Most `mem` a Wasm task may have. */
  wasmMemMaxMiB: number;
  /** Ranges fetched from although private, loopback or link-local. */
  allowFetchFrom: string[];
  /** Bytes the artifact cache keeps. */
  fetchCacheMaxMiB: number;
  /** Per-task log rate: lines and bytes a second (bursts of ten seconds' worth). */
  logLinesPerSecond: number;
  logBytesPerSecond: number;
  /**
   * `--outbox-max-mib` (`PACER_OUTBOX_MAX_MIB`, default 8): pending records the on-disk status
   * outbox (`<work-dir>/outbox.jsonl`) keeps while the master does not acknowledge them.
   */
  outboxMaxMiB: number;
  /** One-time token exchanged at the master for this agent's own credentials (first start only). */
  joinToken?: string;
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

/** The leader lease's timing; the renewal must come well within the TTL. */
function leasePart(env: NodeJS.ProcessEnv): { ttlMs?: number; renewMs?: number } {
  const ttl = env.PACER_LEASE_TTL_MS;
  const renew = env.PACER_LEASE_RENEW_MS;
  const ttlMs = ttl ? int('PACER_LEASE_TTL_MS', ttl, 0) : undefined;
  const renewMs = renew ? int('PACER_LEASE_RENEW_MS', renew, 0) : undefined;
  if (ttlMs !== undefined && ttlMs < 300)
    throw new ConfigError('PACER_LEASE_TTL_MS must be at least 300');
  if (renewMs !== undefined && (renewMs < 50 || renewMs * 2 > (ttlMs ?? 1_500)))
    throw new ConfigError('PACER_LEASE_RENEW_MS must be at least 50 and at most half the TTL');
  return { ...(ttlMs ? { ttlMs } : {}), ...(renewMs ? { renewMs } : {}) };
}

/**
 * `pacer master`'s lease: masters that share a Postgres fail over within about 1.5 s of a
 * leader's death (`pacer dev`, alone, keeps the library's long default).
 */
export function clusterLease(lease: { ttlMs?: number; renewMs?: number }): {
  ttlMs: number;
  renewMs: number;
} {
  return { ttlMs: lease.ttlMs ?? 1_500, renewMs: lease.renewMs ?? 300 };
}

// --- authentication: --insecure, --bootstrap-token-file, PACER_BOOTSTRAP_TOKEN -------------

/** The shortest bootstrap secret accepted: it guards the whole cluster. */
const MIN_BOOTSTRAP_TOKEN_LENGTH = 16;

/** True for a literal loopback address (127.0.0.0/8, ::1) or `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return (
    bare === 'localhost' ||
    bare === '::1' ||
    /^(?:::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare)
  );
}

function authPart(env: NodeJS.ProcessEnv, flags: Flags, host: string): AuthConfig {
  const file = str(flags['bootstrap-token-file']);
  let token = env.PACER_BOOTSTRAP_TOKEN || undefined;
  if (file !== undefined) {
    try {
      token = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      throw new ConfigError(`--bootstrap-token-file: ${(error as Error).message}`);
    }
  }
  if (token !== undefined) {
    if (token.length < MIN_BOOTSTRAP_TOKEN_LENGTH || /\s/.test(token))
      throw new ConfigError(
        `The bootstrap token must be at least ${MIN_BOOTSTRAP_TOKEN_LENGTH} characters without spaces`,
      );
    // Secrets starting with pacer_ name their principal (api/auth/secret-format.ts).
    if (token.startsWith('pacer_'))
      throw new ConfigError("The bootstrap token must not start with 'pacer_'");
  }
  const insecure = flags.insecure === true;
  if (token === undefined && !insecure && !isLoopbackHost(host))
    throw new ConfigError(
      `Refusing to listen on ${host} without authentication: set PACER_BOOTSTRAP_TOKEN ` +
        '(or --bootstrap-token-file), listen on 127.0.0.1, or pass --insecure',
    );
  return {
    bootstrapToken: token,
    insecure: insecure && token === undefined && !isLoopbackHost(host),
  };
}

// --- transport and secrets: --tls-cert, --tls-key, --ca, --redis-ca, PACER_SECRETS_KEY_FILE --

function transportPart(env: NodeJS.ProcessEnv, flags: Flags): TransportConfig {
  const certFile = str(flags['tls-cert']) ?? env.PACER_TLS_CERT;
  const keyFile = str(flags['tls-key']) ?? env.PACER_TLS_KEY;
  if ((certFile === undefined) !== (keyFile === undefined))
    throw new ConfigError('--tls-cert and --tls-key go together: give both or neither');
  const caFile = str(flags.ca) ?? env.PACER_CA_FILE;
  const redisCaFile = str(flags['redis-ca']) ?? env.PACER_REDIS_CA_FILE;
  const secretsKeyFile = env.PACER_SECRETS_KEY_FILE;
  return {
    ...(certFile && keyFile ? { tls: { certFile, keyFile } } : {}),
    ...(caFile ? { caFile } : {}),
    ...(redisCaFile ? { redisCaFile } : {}),
    ...(secretsKeyFile ? { secretsKeyFile } : {}),
  };
}

function limitsPart(env: NodeJS.ProcessEnv): LimitsConfig {
  const cap = (name: string) => {
    const total = env[`PACER_MAX_${name}`];
    const mine = env[`PACER_MAX_${name}_PER_PRINCIPAL`];
    if (total === undefined && mine === undefined) return undefined;
    const t = int(`PACER_MAX_${name}`, total, 1000);
    return { total: t, perPrincipal: int(`PACER_MAX_${name}_PER_PRINCIPAL`, mine, t) };
  };
  const eventStreams = cap('EVENT_STREAMS');
  const logFollows = cap('LOG_FOLLOWS');
  const quota = env.PACER_ARTIFACT_QUOTA_BYTES;
  const grace = env.PACER_ARTIFACT_GRACE_SECONDS;
  return {
    ...(grace ? { artifactGraceMs: int('PACER_ARTIFACT_GRACE_SECONDS', grace, 0) * 1000 } : {}),
    ...(eventStreams ? { eventStreams } : {}),
    ...(logFollows ? { logFollows } : {}),
    ...(quota ? { artifactQuotaBytes: int('PACER_ARTIFACT_QUOTA_BYTES', quota, 0) } : {}),
  };
}

// ---------------------------------------------------------------------------------------------

function masterPart(env: NodeJS.ProcessEnv, flags: Flags, defaultHost: string) {
  const port = int('PORT', str(flags.port) ?? env.PORT, 8080);
  const host = str(flags.host) ?? env.PACER_HOST ?? defaultHost;
  const placement =
    oneOf('PACER_PLACEMENT', env.PACER_PLACEMENT, ['binpack', 'spread'] as const) ?? 'binpack';
  const transport = transportPart(env, flags);
  const scheme = transport.tls ? 'https' : 'http';
  return {
    port,
    host,
    auth: authPart(env, flags, host),
    transport,
    limits: limitsPart(env),
    publicUrl:
      env.PACER_PUBLIC_URL ?? `${scheme}://${host === '0.0.0.0' ? os.hostname() : host}:${port}`,
    agentTimeoutMs: int('PACER_AGENT_TIMEOUT_MS', env.PACER_AGENT_TIMEOUT_MS, 10_000),
    placement,
    lease: leasePart(env),
    standbyRefreshMs: standbyRefreshPart(env),
    clockOffsetMs: clockOffsetPart(env),
  };
}

const DAY_MS = 86_400_000;

/**
 * `PACER_STANDBY_REFRESH_MS`: digits only, 0 (off) or 50 ms to an hour. Below 50 a follower
 * would query Postgres without pause; past 2^31 ms Node's timers fire every millisecond.
 */
function standbyRefreshPart(env: NodeJS.ProcessEnv): number {
  const value = env.PACER_STANDBY_REFRESH_MS;
  if (value === undefined || value === '') return 1_000;
  const ms = /^\d{1,7}$/.test(value) ? Number(value) : NaN;
  if (ms !== 0 && !(ms >= 50 && ms <= 3_600_000))
    throw new ConfigError(
      `PACER_STANDBY_REFRESH_MS must be 0 (off) or a whole number of ms from 50 to 3600000, got '${value}'`,
    );
  return ms;
}

/** `PACER_CLOCK_OFFSET_MS`: a signed whole number of ms within a day either way. */
function clockOffsetPart(env: NodeJS.ProcessEnv): number {
  const value = env.PACER_CLOCK_OFFSET_MS;
  if (value === undefined || value === '') return 0;
  if (!/^-?\d{1,9}$/.test(value) || Math.abs(Number(value)) > DAY_MS)
    throw new ConfigError(
      `PACER_CLOCK_OFFSET_MS must be a whole number of ms within ±${DAY_MS}, got '${value}'`,
    );
  return Number(value);
}

function agentPart(env: NodeJS.ProcessEnv, flags: Flags) {
  const cpuLimit =
    oneOf('--cpu-limit', str(flags['cpu-limit']) ?? env.PACER_CPU_LIMIT, [
      'shares',
      'hard',
    ] as const) ?? 'shares';
  const containerizer = oneOf('--containerizer', str(flags.containerizer), [
    'podman',
    'docker',
  ] as const);
  const fuel = str(flags['wasm-fuel']) ?? env.PACER_WASM_FUEL;
  if (fuel !== undefined && !/^\d+$/.test(fuel))
    throw new ConfigError(`--wasm-fuel must be a whole number, got '${fuel}'`);
  const timeout = str(flags['wasm-timeout-seconds']) ?? env.PACER_WASM_TIMEOUT_SECONDS;
  let resources: Resources;
  let reservations: RoleResources[];
  let attributes: Record<string, string>;
  try {
    const spec = parseResourceSpec(str(flags.resources) ?? env.PACER_RESOURCES ?? '');
    const parsed = agentResources(spec, defaultResources());
    resources = parsed.total;
    reservations = parsed.reservations;
    attributes = parseAttributes(str(flags.attributes) ?? env.PACER_ATTRIBUTES ?? '');
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  return {
    ...agentLimitsPart(env, flags),
    transport: transportPart(env, flags),
    hostname: str(flags.hostname) ?? env.PACER_HOSTNAME ?? os.hostname(),
    attributes,
    resources,
    reservations,
    cpuLimit,
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
    wasmPrewarm: env.PACER_WASM_PREWARM === '1',
  };
}

/** The strings of a flag given once, several times (an array from parseArgs) or not at all. */
function listOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** Flags of issue 11 (rules 5, 9, 10): the maxima an operator allows a task, log rates, fetch policy. */
function agentLimitsPart(env: NodeJS.ProcessEnv, flags: Flags) {
  const fuelMax = str(flags['wasm-fuel-max']) ?? env.PACER_WASM_FUEL_MAX ?? '1000000000000';
  if (!/^[1-9][0-9]*$/.test(fuelMax))
    throw new ConfigError(`--wasm-fuel-max must be a whole number > 0, got '${fuelMax}'`);
  const seconds = str(flags['wasm-timeout-seconds-max']) ?? env.PACER_WASM_TIMEOUT_SECONDS_MAX;
  const memMax = str(flags['wasm-mem-max-mib']) ?? env.PACER_WASM_MEM_MAX_MIB;
  return {
    wasmFuelMax: BigInt(fuelMax),
    // Node keeps timers up to 2^31 - 1 ms; a longer one would fire at once.
    wasmTimeoutSecondsMax: int('--wasm-timeout-seconds-max', seconds, 2_147_483),
    wasmMemMaxMiB: int('--wasm-mem-max-mib', memMax, 4096),
    // Repeatable flag (an array from parseArgs) or a comma-separated list.
    allowFetchFrom: listOf((flags as Record<string, unknown>)['allow-fetch-from'])
      .concat(listOf(env.PACER_ALLOW_FETCH_FROM))
      .flatMap((v) => v.split(','))
      .map((v) => v.trim())
      .filter(Boolean),
    fetchCacheMaxMiB: int(
      '--fetch-cache-max-mib',
      str(flags['fetch-cache-max-mib']) ?? env.PACER_FETCH_CACHE_MAX_MIB,
      1024,
    ),
    logLinesPerSecond: int(
      '--log-lines-per-second',
      str(flags['log-lines-per-second']) ?? env.PACER_LOG_LINES_PER_SECOND,
      1000,
    ),
    logBytesPerSecond: int(
      '--log-bytes-per-second',
      str(flags['log-bytes-per-second']) ?? env.PACER_LOG_BYTES_PER_SECOND,
      1024 * 1024,
    ),
    outboxMaxMiB: outboxMaxMiBOf(str(flags['outbox-max-mib']) ?? env.PACER_OUTBOX_MAX_MIB),
  };
}

/**
 * `--outbox-max-mib`: digits only, 1 MiB to 1 TiB. 0 would keep nothing but tasks' final
 * statuses through a disconnect, and a figure past 2^53 bytes would lose precision.
 */
function outboxMaxMiBOf(value: string | undefined): number {
  if (value === undefined || value === '') return 8;
  const mib = /^\d{1,7}$/.test(value) ? Number(value) : NaN;
  if (!(mib >= 1 && mib <= 1_048_576))
    throw new ConfigError(
      `--outbox-max-mib must be a whole number from 1 to 1048576, got '${value}'`,
    );
  return mib;
}

/**
 * Agent identity, on the master: `--require-agent-identity`, join token lifetime. A master with
 * authentication on hears only agents that joined (issue 13: an agent without credentials is
 * refused); `pacer dev`'s own agent is in-process and needs none.
 */
function agentIdentityPart(env: NodeJS.ProcessEnv, flags: Flags, isAuthOn = false) {
  return {
    requireAgentIdentity:
      isAuthOn ||
      flags['require-agent-identity'] === true ||
      env.PACER_REQUIRE_AGENT_IDENTITY === '1',
    agentTokenTtlMs:
      int('PACER_AGENT_TOKEN_TTL_SECONDS', env.PACER_AGENT_TOKEN_TTL_SECONDS, 3_600) * 1000,
  };
}

export function loadMasterConfig(env: NodeJS.ProcessEnv, flags: Flags): MasterConfig {
  // A master serves agents on other machines: every address, so authentication or --insecure.
  const master = masterPart(env, flags, '0.0.0.0');
  return {
    ...common(env),
    ...master,
    ...agentIdentityPart(env, flags, master.auth.bootstrapToken !== undefined),
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
  // Unauthenticated unless told otherwise, so only this machine may reach it.
  const master = masterPart(env, flags, '127.0.0.1');
  const agent = agentPart(env, { 'work-dir': `${dataDir}/agent`, ...flags });
  return {
    ...common(env),
    ...master,
    ...agentIdentityPart(env, flags),
    ...agent,
    transport: master.transport,
    // A certificate names `localhost` more often than an address.
    publicUrl:
      env.PACER_PUBLIC_URL ??
      (master.transport.tls
        ? `https://localhost:${master.port}`
        : `http://127.0.0.1:${master.port}`),
    dataDir,
  };
}
