// The `pacer` command: dev | master | agent. Parses flags, loads config, starts the roles.
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  ConfigError,
  clusterLease,
  loadAgentConfig,
  loadDevConfig,
  loadMasterConfig,
  type Flags,
  type TransportConfig,
} from '../config.js';
import { createLogger, packageVersion, releaseStartupGarbage, systemClock } from '../lib/index.js';
import type { OPERATOR_COMMANDS, runOperatorCommand } from './operator/run.js';
import type { LbFlags } from './lb-command.js';

// The roles are loaded only when run, so `pacer --help` answers at once.
const roles = {
  agent: () => import('../agent/main.js'),
  bus: () => import('../bus/index.js'),
  master: () => import('./start-master.js'),
  store: () => import('../store/index.js'),
};

const HELP = `pacer ${packageVersion()} — a Marathon-compatible control plane for WebAssembly tasks

Usage: pacer <command> [flags]

Commands:
  dev       master and one agent in one process, embedded state (PGlite), in-process bus
  master    the Marathon API, deployments and scheduling (needs DATABASE_URL, REDIS_URL)
  agent     offers resources and runs tasks (needs REDIS_URL, PACER_MASTER_URL)
  lb        a load balancer following the master, in marathon-lb's model: --port <n> (vhost
            listener, status at /_pacer/lb/status, metrics at /_pacer/lb/metrics), --group
            (HAPROXY_GROUP, default external, * for all), --master or $PACER_MASTER_URL, a token
            with view ($PACER_TOKEN), --ca, --host (default 0.0.0.0)
  help      this text

Operating a cluster (master from --master, $PACER_URL or the config file; token from --token,
$PACER_TOKEN or the config file ~/.config/pacer/config.json {"url", "token", "ca"}; an HTTPS master
verified against --ca or $PACER_CA_FILE; --json for scripts):
  app deploy FILE.json      create or replace the app, then wait for its deployment with a live
                            display (--no-wait to return at once, --timeout <s>, --force)
  app list | show ID | tasks ID | delete ID | restart ID | scale ID N | rollback ID [VERSION]
  app logs ID [-f] [--stderr]
  task kill TASK_ID         deployment list | cancel ID      agent list | drain ID | undrain ID      artifact push FILE
  agent-token create --hostname <name>   a one-time join token for an agent (admin; prints it)

Flags:
  --port <n>                 HTTP port (dev, master; default 8080 or $PORT)
  --host <addr>              listen address (default: dev 127.0.0.1, master 0.0.0.0; $PACER_HOST)
  --bootstrap-token-file <f> dev, master: turn authentication on; the principal 'bootstrap' (all
                             rights) gets the file's secret on first start ($PACER_BOOTSTRAP_TOKEN)
  --insecure                 dev, master: serve a non-loopback address without authentication
  --tls-cert <pem>           dev, master: serve HTTPS with this certificate (chain) ($PACER_TLS_CERT)
  --tls-key <pem>            dev, master: … and this private key ($PACER_TLS_KEY)
  --ca <pem>                 master, agent: verify the master's HTTPS against these CAs ($PACER_CA_FILE)
  --redis-ca <pem>           master, agent: verify a rediss:// Redis against these CAs ($PACER_REDIS_CA_FILE)
  --data-dir <dir>           dev: where state is kept (default ./.pacer or $PACER_DATA_DIR)
  --hostname <name>          agent: hostname offered to the master (default: this machine's)
  --attributes <k:v,...>     agent: attributes for constraints, e.g. zone:eu,rack:r1
  --resources <spec>         agent: e.g. cpus:2,mem:1024,disk:4096,ports:[31000-32000], or with
                             reservations (Mesos): cpus(web):2;cpus:2;mem(web):1024;mem:3072;
                             ports(web):[40000-40010];ports:[31000-32000]
  --cpu-limit shares|hard    agent: CPU time in proportion to cpus under load (shares, default);
                             hard also caps each task at its cpus on an idle machine
  --work-dir <dir>           agent: sandboxes, artifact cache, task records
  --allow-commands           agent: also run native commands (sandboxed with bubblewrap)
  --allow-unsandboxed-commands agent: run them even where bubblewrap does not work (unsafe)
  --allow-host-volume <p[:ro]> agent: container volumes may use this host directory (repeatable)
  --allow-docker-parameter <k> agent: pass this docker parameter to the engine (repeatable)
  --containerizer <engine>   agent: also run containers with podman or docker
  --container-runtime <name> agent: OCI runtime for the engine, e.g. runc
  --wasm-fuel <n>            agent: default fuel budget of a Wasm task
  --wasm-timeout-seconds <n> agent: default wall-clock limit of a Wasm task
  --wasm-fuel-max <n>        agent: most fuel a PACER_WASM_FUEL label may ask (default 10^12)
  --wasm-timeout-seconds-max <n>  agent: longest PACER_WASM_TIMEOUT_SECONDS (default 2147483)
  --wasm-mem-max-mib <n>     agent: most mem a Wasm task may have (default 4096)
  --allow-fetch-from <cidr>  agent: fetch from this private/loopback range too (repeatable)
  --fetch-cache-max-mib <n>  agent: artifact cache size, least recently used out (default 1024)
  --log-lines-per-second <n> agent: per-task log rate, bursts of 10 s (default 1000)
  --log-bytes-per-second <n> agent: per-task log bytes, bursts of 10 s (default 1048576)
  --outbox-max-mib <n>       agent: status updates (and, while Redis is unreachable, log batches)
                             wait for the master's acknowledgement in <work-dir>/outbox.jsonl,
                             replayed in order after a disconnect or restart; past this many MiB
                             the oldest logs go first, a task's final status never (default 8)

  --join-token <token>       agent: join with this one-time token (better: $PACER_JOIN_TOKEN)
  --require-agent-identity   master: hear only agents that joined with a token


Environment: PORT, PACER_HOST, PACER_BOOTSTRAP_TOKEN, DATABASE_URL, REDIS_URL, PACER_MASTER_URL, PACER_DATA_DIR, PACER_PUBLIC_URL,
PACER_SECRETS_KEY_FILE, PACER_MAX_EVENT_STREAMS[_PER_PRINCIPAL], PACER_MAX_LOG_FOLLOWS[_PER_PRINCIPAL],
PACER_ARTIFACT_QUOTA_BYTES, PACER_ARTIFACT_GRACE_SECONDS, PACER_BUS_PREFIX, PACER_AGENT_TIMEOUT_MS, PACER_LEASE_TTL_MS (master 1500, dev 10000), PACER_LEASE_RENEW_MS (300), PACER_STANDBY_REFRESH_MS (1000; 0 = no warm standby), PACER_OFFER_INTERVAL_MS, PACER_PLACEMENT, LOG_LEVEL,
PACER_JOIN_TOKEN, PACER_OUTBOX_MAX_MIB, PACER_REQUIRE_AGENT_IDENTITY=1, PACER_AGENT_TOKEN_TTL_SECONDS (default 3600).
`;

const options = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  port: { type: 'string' },
  host: { type: 'string' },
  'bootstrap-token-file': { type: 'string' },
  insecure: { type: 'boolean' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  ca: { type: 'string' },
  'redis-ca': { type: 'string' },
  'data-dir': { type: 'string' },
  hostname: { type: 'string' },
  attributes: { type: 'string' },
  resources: { type: 'string' },
  'cpu-limit': { type: 'string' },
  'work-dir': { type: 'string' },
  'allow-commands': { type: 'boolean' },
  'allow-unsandboxed-commands': { type: 'boolean' },
  'allow-host-volume': { type: 'string', multiple: true },
  'allow-docker-parameter': { type: 'string', multiple: true },
  containerizer: { type: 'string' },
  'container-runtime': { type: 'string' },
  'wasm-fuel': { type: 'string' },
  'wasm-timeout-seconds': { type: 'string' },
  'wasm-fuel-max': { type: 'string' },
  'wasm-timeout-seconds-max': { type: 'string' },
  'wasm-mem-max-mib': { type: 'string' },
  'allow-fetch-from': { type: 'string', multiple: true },
  'fetch-cache-max-mib': { type: 'string' },
  'log-lines-per-second': { type: 'string' },
  'log-bytes-per-second': { type: 'string' },
  'outbox-max-mib': { type: 'string' },
  'join-token': { type: 'string' },
  'require-agent-identity': { type: 'boolean' },
  master: { type: 'string' },
  group: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  'no-wait': { type: 'boolean' },
  force: { type: 'boolean' },
  follow: { type: 'boolean', short: 'f' },
  stderr: { type: 'boolean' },
  timeout: { type: 'string' },
} as const;

type Stoppable = { stop(): Promise<void> };

/** Stops the roles on SIGINT/SIGTERM, once; a second signal exits at once. */
function stopOnSignal(parts: Stoppable[], logger: { info: (msg: string) => void }): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info(`${signal} received, stopping`);
    void (async () => {
      for (const part of parts) await part.stop();
      process.exit(0);
    })();
  };
  process.on('SIGINT', () => handler('SIGINT'));
  process.on('SIGTERM', () => handler('SIGTERM'));
}

/** The box sealing secrets with the key in `file`; with `orCreate`, that file made when absent. */
async function secretBoxOf(file: string | undefined, orCreate?: string) {
  const { createSecretBox, readOrCreateSecretsKey, readSecretsKey } =
    await import('../master/secret-box.js');
  if (file) return createSecretBox(await readSecretsKey(file));
  if (!orCreate) throw new ConfigError('PACER_SECRETS_KEY_FILE is required for secrets');
  return createSecretBox(await readOrCreateSecretsKey(orCreate));
}

/** The CA verifying a rediss:// Redis, read from `--redis-ca`. */
async function redisCa(transport: TransportConfig): Promise<{ tlsCa?: Buffer }> {
  if (!transport.redisCaFile) return {};
  const { readFile } = await import('node:fs/promises');
  return { tlsCa: await readFile(transport.redisCaFile) };
}

async function dev(flags: Flags): Promise<void> {
  const config = loadDevConfig(process.env, flags);
  const [{ runAgent }, { createMemoryBus }, { startMaster }, { createPgliteStore }] =
    await Promise.all([roles.agent(), roles.bus(), roles.master(), roles.store()]);
  const logger = createLogger({ name: 'dev', level: config.logLevel });
  await mkdir(config.dataDir, { recursive: true });
  logger.info({ dataDir: path.resolve(config.dataDir) }, 'opening embedded state');
  const store = await createPgliteStore({ dataDir: path.join(config.dataDir, 'pglite') });
  const bus = createMemoryBus();
  const master = await startMaster({
    store,
    bus,
    clock: systemClock,
    logger: logger.child({ role: 'master' }),
    masterId: 'dev',
    port: config.port,
    host: config.host,
    auth: config.auth,
    publicUrl: config.publicUrl,
    version: packageVersion(),
    agentTimeoutMs: config.agentTimeoutMs,
    placement: config.placement,
    // One master on its own embedded store: nobody to fail over to, so the library's long
    // default lease, and a stalled event loop does not cost it its leadership; no other master
    // can open the store, so its writes need no fence.
    isSoleMaster: true,
    leaseTtlMs: config.lease.ttlMs,
    leaseRenewMs: config.lease.renewMs,
    ...(config.transport.tls ? { tls: config.transport.tls } : {}),
    limits: config.limits,
    // Dev keeps its own key beside its state, made on first start.
    secretBox: await secretBoxOf(
      config.transport.secretsKeyFile,
      path.join(config.dataDir, 'secrets.key'),
    ),
  });
  const agent = await runAgent({
    config: {
      ...config,
      masterUrl: `${config.transport.tls ? 'https://localhost' : 'http://127.0.0.1'}:${master.port}`,
    },
    bus,
    clock: systemClock,
    logger: logger.child({ role: 'agent' }),
  });
  logger.info(`Pacer is ready: http://127.0.0.1:${master.port}/v2/apps (API docs at /docs)`);
  stopOnSignal([agent, master, { stop: () => bus.close() }, { stop: () => store.close() }], logger);
}

async function master(flags: Flags): Promise<void> {
  const config = loadMasterConfig(process.env, flags);
  const [{ createRedisBus, createRedisAcl }, { startMaster }, { createPostgresStore }] =
    await Promise.all([roles.bus(), roles.master(), roles.store()]);
  const logger = createLogger({ name: 'master', level: config.logLevel });
  const lease = clusterLease(config.lease);
  const store = await createPostgresStore({ url: config.databaseUrl, logger });
  const redisTls = await redisCa(config.transport);
  const bus = createRedisBus({
    url: config.redisUrl,
    prefix: config.busPrefix,
    logger,
    ...redisTls,
  });
  const agentAcl = createRedisAcl({
    url: config.redisUrl,
    prefix: config.busPrefix,
    logger,
    ...redisTls,
  });
  const { caFile, tls } = config.transport;
  const relay = caFile ? await import('../lib/tls-client.js') : undefined;
  const offsetMs = config.clockOffsetMs;
  const running = await startMaster({
    store,
    bus,
    // A clock off by PACER_CLOCK_OFFSET_MS (chaos tests); leases are timed by Postgres anyway.
    clock: offsetMs === 0 ? systemClock : { now: () => systemClock.now() + offsetMs },
    logger,
    requireAgentIdentity: config.requireAgentIdentity,
    agentAcl,
    agentTokenTtlMs: config.agentTokenTtlMs,
    masterId: `master-${randomUUID()}`,
    port: config.port,
    host: config.host,
    auth: config.auth,
    publicUrl: config.publicUrl,
    version: packageVersion(),
    agentTimeoutMs: config.agentTimeoutMs,
    placement: config.placement,
    leaseTtlMs: lease.ttlMs,
    leaseRenewMs: lease.renewMs,
    standbyRefreshMs: config.standbyRefreshMs,
    ...(tls ? { tls } : {}),
    limits: config.limits,
    ...(relay && caFile ? { relayDispatcher: (await relay.loadTlsClient(caFile)).dispatcher } : {}),
    ...(config.transport.secretsKeyFile
      ? { secretBox: await secretBoxOf(config.transport.secretsKeyFile) }
      : {}),
  });
  stopOnSignal(
    [
      running,
      { stop: () => bus.close() },
      { stop: () => agentAcl.close() },
      { stop: () => store.close() },
    ],
    logger,
  );
}

async function agent(flags: Flags): Promise<void> {
  const config = loadAgentConfig(process.env, flags);
  const [{ runAgent }, { createRedisBus }, { loadOrJoin, redisUrlFor }] = await Promise.all([
    roles.agent(),
    roles.bus(),
    import('../agent/credentials.js'),
  ]);
  const logger = createLogger({ name: 'agent', level: config.logLevel });
  const { caFile } = config.transport;
  const credentials = await loadOrJoin({
    workDir: path.resolve(config.workDir),
    masterUrl: config.masterUrl,
    joinToken: config.joinToken,
    logger,
    // The join crosses to the master's HTTPS: verified against `--ca` like artifact downloads.
    ...(caFile && config.joinToken
      ? {
          dispatcher: (await (await import('../lib/tls-client.js')).loadTlsClient(caFile))
            .dispatcher,
        }
      : {}),
  });
  const bus = createRedisBus({
    url: credentials ? redisUrlFor(config.redisUrl, credentials) : config.redisUrl,
    prefix: config.busPrefix,
    logger,
    // An agent's own Redis user may not run INFO.
    readyCheck: !credentials,
    ...(await redisCa(config.transport)),
  });
  const running = await runAgent({
    config,
    bus,
    clock: systemClock,
    logger,
    agentId: credentials?.agentId,
  });
  stopOnSignal([running, { stop: () => bus.close() }], logger);
  // Started and offering: what start-up allocated and dropped is given back now (issue 14).
  releaseStartupGarbage();
}

/** `pacer lb`: the balancer, loaded only when run. */
async function lb(flags: LbFlags): Promise<void> {
  const { runLb } = await import('./lb-command.js');
  const running = await runLb(flags, process.env);
  stopOnSignal([running], { info: (msg) => console.error(msg) });
}

type OperatorCommandFlags = Parameters<typeof runOperatorCommand>[2];

/** An operator command (`app`, `task`, …), loaded only when used. */
async function operator(
  command: (typeof OPERATOR_COMMANDS)[number],
  args: string[],
  flags: OperatorCommandFlags,
): Promise<void> {
  const { runOperatorCommand } = await import('./operator/run.js');
  process.exitCode = await runOperatorCommand(command, args, flags);
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options,
    allowPositionals: true,
    strict: true,
  });
  const flags = values as Flags;
  const command = positionals[0] ?? 'help';
  if (values.version) return void console.log(packageVersion());
  if (values.help || command === 'help') return void console.log(HELP);
  switch (command) {
    case 'dev':
      return dev(flags);
    case 'master':
      return master(flags);
    case 'agent':
      // `pacer agent` runs one; `pacer agent list` asks the master about them.
      if (positionals[1] === undefined) return agent(flags);
      return operator('agent', positionals.slice(1), values);
    case 'lb':
      return lb(values);
    case 'agent-token':
    case 'app':
    case 'task':
    case 'deployment':
    case 'artifact':
      return operator(command, positionals.slice(1), values);
    default:
      throw new ConfigError(`Unknown command '${command}'. Run 'pacer help' for the list.`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (
    error instanceof ConfigError ||
    (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
  ) {
    console.error(`pacer: ${(error as Error).message}`);
    process.exit(2);
  }
  console.error(error);
  process.exit(1);
});
