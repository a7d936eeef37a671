// TLS end to end with a throwaway CA: the master serves HTTPS; clients that trust the CA (a
// follower's relay, the agent's artifact fetcher, the bus over rediss://, the store over
// Postgres with sslmode=verify-full) verify it; clients that trust another CA, or only the
// system's, are refused.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer } from '../src/api/http-server.js';
import type { RunningHttpServer } from '../src/api/http-server.js';
import { CredentialsError, joinMaster } from '../src/agent/credentials.js';
import { FetchError, createFetcher } from '../src/agent/fetch-artifacts.js';
import { createRedisBus } from '../src/bus/index.js';
import { silentLogger } from '../src/lib/index.js';
import { loadTlsClient } from '../src/lib/tls-client.js';
import type { TlsClient } from '../src/lib/tls-client.js';
import { createTestApi } from './support/api-doubles.js';
import type { TestApi } from './support/api-doubles.js';
import { createRedisServer } from './support/redis-server.js';
import { hasCommand } from './support/services.js';
import { createThrowawayCa } from './support/throwaway-ca.js';
import { postgresBinDir, startTlsPostgres } from './support/tls-postgres.js';
import { createPostgresStore } from '../src/store/index.js';
import type { ThrowawayCa } from './support/throwaway-ca.js';
import { waitFor } from './support/wait-for.js';

const hasOpenssl = await hasCommand('openssl', ['version']);
const hasPostgresServer = (await postgresBinDir()) !== undefined;

describe.skipIf(!hasOpenssl)('TLS with a throwaway CA', () => {
  let ca: ThrowawayCa;
  let api: TestApi;
  let server: RunningHttpServer;
  let trusting: TlsClient;
  let other: TlsClient;
  let base: string;
  beforeAll(async () => {
    ca = await createThrowawayCa();
    api = await createTestApi();
    server = await startHttpServer({
      app: api.app,
      port: 0,
      host: '127.0.0.1',
      tls: { certFile: ca.certFile, keyFile: ca.keyFile },
    });
    base = `https://127.0.0.1:${server.port}`;
    trusting = await loadTlsClient(ca.caFile);
    other = await loadTlsClient(ca.otherCaFile);
  });
  afterAll(async () => {
    await server?.close();
    await api?.close();
    await ca?.remove();
  });

  it('serves HTTPS that a client trusting the CA verifies, by address and by name', async () => {
    const res = await fetch(`${base}/ping`, { dispatcher: trusting.dispatcher });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('pong');
    const named = await fetch(`https://localhost:${server.port}/ping`, {
      dispatcher: trusting.dispatcher,
    });
    expect(named.status).toBe(200);
  });

  it('is refused by clients without the CA or trusting another CA, and plain HTTP gets nothing', async () => {
    await expect(fetch(`${base}/ping`)).rejects.toMatchObject({
      cause: { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' },
    });
    await expect(fetch(`${base}/ping`, { dispatcher: other.dispatcher })).rejects.toMatchObject({
      cause: { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' },
    });
    await expect(fetch(`http://127.0.0.1:${server.port}/ping`)).rejects.toThrow();
  });

  it('an agent joins over HTTPS only when it verifies the master against --ca', async () => {
    // The test master has no agent identity: a verified join reaches it and is answered (no
    // route, or a refusal), which is a CredentialsError; an unverified one never gets there.
    const join = (dispatcher?: TlsClient['dispatcher']) =>
      joinMaster({
        masterUrl: base,
        joinToken: 'pjt_unknown',
        ...(dispatcher ? { dispatcher } : {}),
      });
    await expect(join(trusting.dispatcher)).rejects.toBeInstanceOf(CredentialsError);
    for (const dispatcher of [undefined, other.dispatcher]) {
      const error = await join(dispatcher).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TypeError);
      expect(error).not.toBeInstanceOf(CredentialsError);
    }
  });

  it('the agent downloads an artifact over HTTPS with --ca, and refuses without it', async () => {
    const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    await api.store.artifacts.put({ digest, bytes });
    const uri = `${base}/v2/artifacts/${digest}/module.wasm`;
    const work = await mkdtemp(path.join(os.tmpdir(), 'pacer-tls-fetch-'));
    try {
      // The master's own origin: allowed although it is a loopback address (fetch-policy.ts).
      const verifying = createFetcher({
        cacheDir: path.join(work, 'cache'),
        masterUrl: base,
        httpsAgent: trusting.httpsAgent,
      });
      await verifying.fetchAll([{ uri, extract: false, executable: false, cache: true }], work);
      expect(new Uint8Array(await readFile(path.join(work, 'module.wasm')))).toEqual(bytes);

      for (const httpsAgent of [undefined, other.httpsAgent]) {
        const refusing = createFetcher({
          cacheDir: path.join(work, 'other-cache'),
          masterUrl: base,
          ...(httpsAgent ? { httpsAgent } : {}),
        });
        const failed = refusing.fetchAll(
          [{ uri, extract: false, executable: false, cache: true }],
          work,
        );
        await expect(failed).rejects.toBeInstanceOf(FetchError);
        await expect(failed).rejects.toThrow(/unable to verify/);
      }
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it('the operator CLI verifies the master against --ca, and says why it cannot reach it without', async () => {
    const cli = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(
          process.execPath,
          ['bin/pacer.js', 'app', 'list', '--json', '--master', base, ...args],
          {
            env: {
              ...process.env,
              PACER_CONFIG: path.join(ca.dir, 'none.json'),
              PACER_CA_FILE: '',
            },
          },
          (error, stdout, stderr) =>
            resolve({
              code: error ? Number((error as { code?: number }).code ?? 1) : 0,
              stdout,
              stderr,
            }),
        ),
      );
    const verified = await cli(['--ca', ca.caFile]);
    expect(verified.stderr).toBe('');
    expect(Array.isArray(JSON.parse(verified.stdout))).toBe(true);
    for (const args of [[], ['--ca', ca.otherCaFile]]) {
      const refused = await cli(args);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(
        /cannot reach the master at https:.*(UNABLE_TO_VERIFY|SELF_SIGNED)/,
      );
    }
    const missing = await cli(['--ca', path.join(ca.dir, 'absent.crt')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^pacer: --ca .*absent\.crt: ENOENT/);
  });

  it("a follower relays to the leader's HTTPS only when it verifies the leader", async () => {
    const leadership = (dispatcher?: TlsClient['dispatcher']) => ({
      leadership: { isLeader: () => false, leaderUrl: () => base, abdicate: async () => {} },
      ...(dispatcher ? { relayDispatcher: dispatcher } : {}),
    });
    const follower = await createTestApi(leadership(trusting.dispatcher));
    const blind = await createTestApi(leadership(other.dispatcher));
    try {
      const relayed = await follower.json('POST', '/v2/apps', { id: '/over-tls', cmd: 'a.wasm' });
      expect(relayed.status).toBe(201);
      expect(await api.store.apps.get('/over-tls')).toBeDefined();
      const refused = await blind.json('POST', '/v2/apps', { id: '/not-over-tls', cmd: 'a.wasm' });
      expect(refused.status).toBe(502);
      expect(await api.store.apps.get('/not-over-tls')).toBeUndefined();
    } finally {
      await follower.close();
      await blind.close();
    }
    // Two more in-memory stores (PGlite) take a while on a busy machine.
  }, 120_000);

  it.skipIf(!hasPostgresServer && process.env.REQUIRE_SERVICES !== '1')(
    'the store reaches a TLS-only Postgres with sslmode=verify-full and sslrootcert, and no other way',
    async () => {
      const server = await startTlsPostgres({ certFile: ca.certFile, keyFile: ca.keyFile });
      const url = (host: string, query: string) =>
        `postgres://postgres@${host}:${server.port}/postgres?${query}`;
      try {
        for (const host of ['localhost', '127.0.0.1']) {
          const store = await createPostgresStore({
            url: url(host, `sslmode=verify-full&sslrootcert=${ca.caFile}`),
          });
          await store.apps.list(); // migrated and answering, over TLS
          await store.close();
        }
        // Another CA's root, no verification at all (refused by pg_hba: TLS only), a missing file.
        await expect(
          createPostgresStore({
            url: url('localhost', `sslmode=verify-full&sslrootcert=${ca.otherCaFile}`),
          }),
        ).rejects.toMatchObject({ code: expect.stringMatching(/SELF_SIGNED|UNABLE_TO_VERIFY/) });
        await expect(
          createPostgresStore({ url: url('localhost', 'sslmode=disable') }),
        ).rejects.toThrow(/no encryption|pg_hba/);
        await expect(
          createPostgresStore({
            url: url('localhost', 'sslmode=verify-full&sslrootcert=/nonexistent/ca.crt'),
          }),
        ).rejects.toThrow('DATABASE_URL: sslrootcert /nonexistent/ca.crt: ENOENT');
      } finally {
        await server.stop();
      }
    },
    60_000,
  );

  it('the bus reaches a rediss:// Redis that it verifies with --redis-ca', async () => {
    const redis = await createRedisServer({
      tls: { certFile: ca.certFile, keyFile: ca.keyFile, caFile: ca.caFile },
    });
    await redis.start();
    const bus = createRedisBus({
      url: redis.url,
      prefix: 'tls-test:',
      logger: silentLogger(),
      tlsCa: await readFile(ca.caFile),
    });
    const warnings: string[] = [];
    const untrusting = createRedisBus({
      url: redis.url,
      prefix: 'tls-test:',
      logger: pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) }),
      tlsCa: await readFile(ca.otherCaFile),
    });
    try {
      await bus.publish('hello', { said: 'over TLS' });
      const entries = await bus.read<{ said: string }>('hello');
      expect(entries.map((e) => e.message)).toEqual([{ said: 'over TLS' }]);
      // The same server through a client trusting another CA: the handshake fails (it retries
      // until closed), and nothing it sent arrives.
      const published = untrusting.publish('hello', { said: 'blind' }).catch((e: unknown) => e);
      await waitFor('the failed handshake logged', () =>
        /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE/.test(warnings.join('\n')),
      );
      await untrusting.close();
      expect(await published).toBeInstanceOf(Error);
      expect((await bus.read('hello')).length).toBe(1);
    } finally {
      await bus.close();
      await untrusting.close().catch(() => undefined);
      await redis.kill();
    }
  });
});
