// A real cluster to inject faults into: `pacer master` processes on a fresh Postgres database
// (each through its own TCP proxy, so its link can be cut), a private redis-server (so it can be
// restarted), and `pacer agent` processes each reaching Redis through its own TCP proxy (so one
// agent's link can be cut, delayed or partitioned). A small HTTP relay in front of the masters
// serves artifacts to agents from whichever master answers, as a load balancer would.
import http from 'node:http';
import { createHash } from 'node:crypto';
import { readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  agentPortRanges,
  apiClient,
  freePort,
  startPacer,
  tempDir,
  waitForApi,
  type PacerProcess,
} from '../../support/cluster.js';
import { createRedisServer, type RedisServer } from '../../support/redis-server.js';
import { createTestDatabase, POSTGRES_URL, redisPrefix } from '../../support/services.js';
import { waitFor } from '../../support/wait-for.js';
import { createTcpProxy, type TcpProxy } from './tcp-proxy.js';
import { installWriteAudit, type WriteAudit } from './write-audit.js';

export type Api = ReturnType<typeof apiClient>;

export interface ChaosMaster {
  /** `m<port>`: its `application_name` in Postgres. */
  name: string;
  port: number;
  url: string;
  api: Api;
  proc: PacerProcess;
  /** Its link to Postgres. */
  pg: TcpProxy;
  isPaused: boolean;
  clockOffsetMs: number;
}

export interface ChaosAgent {
  hostname: string;
  workDir: string;
  proc: PacerProcess;
  /** Its link to Redis. */
  redis: TcpProxy;
}

export interface ChaosOptions {
  masters: number;
  agents: number;
  /** Keep Redis's data across restarts (append-only file, fsync always). */
  redisPersistent?: boolean;
  leaseTtlMs?: number;
  leaseRenewMs?: number;
  /** Agent liveness: silent this long → unreachable (default 3000). */
  agentTimeoutMs?: number;
}

/** A call unanswered this long counts as an unknown outcome (the client gives up, as clients do). */
const CALL_TIMEOUT_MS = 10_000;
const SERVICE_WASM = path.resolve('wasm-tasks/build/service.wasm');

export async function startChaosCluster(options: ChaosOptions) {
  const db = await createTestDatabase();
  const redisDir = options.redisPersistent ? await tempDir('pacer-chaos-redis') : undefined;
  const redis: RedisServer = await createRedisServer(redisDir ? { persistDir: redisDir } : {});
  await redis.start();
  const prefix = redisPrefix();
  const dbUrl = new URL(db.url);
  const pgTarget = new URL(POSTGRES_URL);
  const masters: ChaosMaster[] = [];
  const agents: ChaosAgent[] = [];

  // The relay agents fetch artifacts through (their PACER_MASTER_URL, so its origin is allowed).
  const relay = http.createServer((req, res) => {
    void (async () => {
      for (const master of masters) {
        if (master.isPaused || master.proc.child.exitCode !== null) continue;
        const answer = await fetch(master.url + (req.url ?? '/'), {
          signal: AbortSignal.timeout(2_000),
        }).catch(() => undefined);
        if (!answer || answer.status >= 500) continue;
        res.writeHead(answer.status, {
          'content-type': answer.headers.get('content-type') ?? 'application/octet-stream',
        });
        res.end(Buffer.from(await answer.arrayBuffer()));
        return;
      }
      res.writeHead(503).end();
    })().catch(() => res.writeHead(502).end());
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const relayUrl = `http://127.0.0.1:${(relay.address() as { port: number }).port}`;

  const commonEnv = {
    PACER_BUS_PREFIX: prefix,
    PACER_OFFER_INTERVAL_MS: '300',
    PACER_AGENT_TIMEOUT_MS: String(options.agentTimeoutMs ?? 3_000),
    PACER_LEASE_TTL_MS: String(options.leaseTtlMs ?? 1_500),
    PACER_LEASE_RENEW_MS: String(options.leaseRenewMs ?? 300),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
  };

  async function startMaster(
    port?: number,
    opts: { clockOffsetMs?: number; pg?: TcpProxy } = {},
  ): Promise<ChaosMaster> {
    const p = port ?? (await freePort());
    const pg =
      opts.pg ??
      (await createTcpProxy({ host: pgTarget.hostname, port: Number(pgTarget.port || 5432) }));
    const url = `http://127.0.0.1:${p}`;
    const name = `m${p}`;
    const masterDb = new URL(dbUrl);
    masterDb.host = pg.address;
    masterDb.searchParams.set('application_name', name);
    const proc = startPacer(['master', '--port', String(p), '--host', '127.0.0.1'], {
      ...commonEnv,
      DATABASE_URL: masterDb.toString(),
      REDIS_URL: redis.url,
      PACER_PUBLIC_URL: url,
      PACER_CLOCK_OFFSET_MS: String(opts.clockOffsetMs ?? 0),
    });
    await waitForApi(url, proc);
    const master: ChaosMaster = {
      name,
      port: p,
      url,
      api: apiClient(url),
      proc,
      pg,
      isPaused: false,
      clockOffsetMs: opts.clockOffsetMs ?? 0,
    };
    const old = masters.findIndex((m) => m.port === p);
    if (old >= 0) masters[old] = master;
    else masters.push(master);
    return master;
  }

  const portsOf = agentPortRanges();

  async function startAgent(n: number, reuse?: ChaosAgent): Promise<ChaosAgent> {
    const redisLink =
      reuse?.redis ?? (await createTcpProxy({ host: '127.0.0.1', port: redis.port }));
    const hostname = reuse?.hostname ?? `chaos-agent-${n}`;
    const workDir = reuse?.workDir ?? (await tempDir(`pacer-chaos-${hostname}`));
    const proc = startPacer(
      [
        'agent',
        '--hostname',
        hostname,
        '--resources',
        // Ports of its own (by hostname: a restarted agent keeps them).
        `cpus:4,mem:1024,disk:2048,ports:[${portsOf(hostname)}]`,
        '--work-dir',
        workDir,
        '--wasm-timeout-seconds',
        '3600',
      ],
      {
        ...commonEnv,
        REDIS_URL: `redis://${redisLink.address}`,
        PACER_MASTER_URL: relayUrl,
      },
    );
    const agent = { hostname, workDir, proc, redis: redisLink };
    const old = agents.findIndex((a) => a.hostname === hostname);
    if (old >= 0) agents[old] = agent;
    else agents.push(agent);
    return agent;
  }

  for (let i = 0; i < options.masters; i++) await startMaster();
  // The tables exist once the first master migrated: the audit goes on them now.
  const audit: WriteAudit = await installWriteAudit(db.url);
  for (let i = 0; i < options.agents; i++) await startAgent(i + 1);

  let turn = 0;
  const live = () => masters.filter((m) => !m.isPaused && m.proc.child.exitCode === null);

  /**
   * A client over every live master: a call refused at connect (never sent) tries the next one;
   * any other failure is the caller's (its write may or may not have happened).
   */
  async function call<T = any>(
    method: string,
    pathname: string,
    body?: unknown,
    headers?: Record<string, string>,
  ) {
    let lastError: unknown;
    const masters = live();
    // Each call starts at the next master, so one that hangs (paused) holds only its share.
    const first = turn++;
    for (let i = 0; i < masters.length; i++) {
      const master = masters[(first + i) % masters.length] as ChaosMaster;
      try {
        return await master.api.call<T>(method, pathname, body, headers, {
          timeoutMs: CALL_TIMEOUT_MS,
        });
      } catch (error) {
        lastError = error;
        if ((error as { cause?: { code?: string } }).cause?.code !== 'ECONNREFUSED') throw error;
      }
    }
    throw lastError instanceof Error ? lastError : new Error('no live master');
  }

  const cluster = {
    db,
    redis,
    prefix,
    audit,
    masters,
    agents,
    relayUrl,
    startMaster,
    startAgent,
    call,
    /** The master whose lease is live in Postgres (by the database's clock). */
    async leader(): Promise<ChaosMaster> {
      let lastLease: unknown;
      return waitFor('a leader', async () => {
        const lease = await audit.lease();
        lastLease = lease;
        const master = masters.find((m) => m.url === lease?.holder);
        if (!master || master.isPaused || master.proc.child.exitCode !== null) return undefined;
        // Elected counts once it serves as leader (its loops are ready).
        const answer = await master.api.get('/v2/leader').catch(() => undefined);
        return answer?.body?.leader === `127.0.0.1:${master.port}` ? master : undefined;
      }).catch(async (error: unknown) => {
        const activity = await audit.activity();
        const tails = masters.map(
          (m) => `--- ${m.url}${m.isPaused ? ' (paused)' : ''}:\n${m.proc.output().slice(-3000)}`,
        );
        throw new Error(
          `${(error as Error).message}; lease ${JSON.stringify(lastLease)}\n${JSON.stringify(activity, null, 1)}\n${tails.join('\n')}`,
        );
      });
    },
    pause(master: ChaosMaster) {
      master.proc.child.kill('SIGSTOP');
      master.isPaused = true;
    },
    resume(master: ChaosMaster) {
      master.proc.child.kill('SIGCONT');
      master.isPaused = false;
    },
    /** SIGKILL, then (unless told not to) the same master again on its port. */
    async killMaster(
      master: ChaosMaster,
      restart: { clockOffsetMs?: number } | false = {},
    ): Promise<ChaosMaster | undefined> {
      await master.proc.stop({ hard: true });
      return restart ? startMaster(master.port, { pg: master.pg, ...restart }) : undefined;
    },
    async killAgent(agent: ChaosAgent, restart = true): Promise<ChaosAgent | undefined> {
      await agent.proc.stop({ hard: true });
      return restart ? startAgent(0, agent) : undefined;
    },
    /**
     * Redis killed (SIGKILL) and started again on its port: with `keepData` (and a persistent
     * server) it comes back with what it had acknowledged; without, empty.
     */
    async restartRedis(keepData: boolean): Promise<void> {
      await redis.kill();
      if (!keepData && redisDir)
        for (const entry of await readdir(redisDir))
          await rm(path.join(redisDir, entry), { recursive: true, force: true });
      await redis.start();
    },
    /** Every master's link to Postgres cut (as when it restarts) for `ms`, then restored. */
    async dropPostgres(ms: number): Promise<void> {
      for (const master of masters) master.pg.cut();
      await new Promise((resolve) => setTimeout(resolve, ms)); // the outage lasts this long
      for (const master of masters) master.pg.restore();
    },
    /**
     * Masters and agents that died without being killed here, started again (as a supervisor
     * would); their names, for the report.
     */
    async reviveCrashed(): Promise<string[]> {
      const crashed: string[] = [];
      for (const master of [...masters])
        if (master.proc.child.exitCode !== null && !master.isPaused) {
          crashed.push(`${master.url}: ${lastError(master.proc.output())}`);
          await startMaster(master.port, { pg: master.pg, clockOffsetMs: master.clockOffsetMs });
        }
      for (const agent of [...agents])
        if (agent.proc.child.exitCode !== null) {
          crashed.push(`${agent.hostname}: ${lastError(agent.proc.output())}`);
          await startAgent(0, agent);
        }
      return crashed;
    },
    /** Agents the leader sees as active. */
    async activeAgents(): Promise<number> {
      const res = await call('GET', '/v2/agents');
      const list = (res.body?.agents ?? res.body) as { active?: boolean; status?: string }[];
      return Array.isArray(list) ? list.length : 0;
    },
    /** Uploads service.wasm; the fetch URI goes through the relay. */
    async uploadService(): Promise<string> {
      const bytes = await readFile(SERVICE_WASM);
      const res = await call('POST', '/v2/artifacts', new Uint8Array(bytes), {
        'content-type': 'application/wasm',
      });
      if (res.status !== 201) throw new Error(`upload answered ${res.status}`);
      const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
      return `${relayUrl}/v2/artifacts/${digest}/service.wasm`;
    },
    async stop(): Promise<void> {
      for (const master of masters) if (master.isPaused) master.proc.child.kill('SIGCONT');
      await Promise.all([...agents, ...masters].map((p) => p.proc.stop({ hard: true })));
      for (const link of [...agents.map((a) => a.redis), ...masters.map((m) => m.pg)])
        await link.close();
      relay.closeAllConnections();
      await new Promise<void>((resolve) => relay.close(() => resolve()));
      await audit.close();
      await redis.kill();
      await db.drop();
    },
  };
  return cluster;
}

/** The last line of a dead process's output that looks like its cause of death. */
function lastError(output: string): string {
  const lines = output.trim().split('\n');
  const cause = lines.findLast((line) => /Error|error|FATAL/.test(line)) ?? lines.at(-1) ?? '';
  return cause.slice(0, 200);
}

export type ChaosCluster = Awaited<ReturnType<typeof startChaosCluster>>;
