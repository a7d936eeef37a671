// Starting without authentication is safe only on loopback: real `pacer` processes refuse other
// addresses unless given a bootstrap token or --insecure; two masters bootstrapping one fresh
// database at once create one principal, and a follower relays credentials to the leader.
import os from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import {
  freePort,
  prepareCluster,
  startPacer,
  tempDir,
  waitFor,
  waitForApi,
  type PacerProcess,
} from './support/cluster.js';
import { hasService } from './support/services.js';

const started: PacerProcess[] = [];
afterAll(async () => {
  await Promise.all(started.map((p) => p.stop()));
});

function run(args: string[], env: Record<string, string> = {}): PacerProcess {
  const proc = startPacer(args, { PACER_BOOTSTRAP_TOKEN: '', ...env });
  started.push(proc);
  return proc;
}

async function exitCode(proc: PacerProcess): Promise<number | null> {
  if (proc.child.exitCode !== null) return proc.child.exitCode;
  return new Promise((resolve) => proc.child.once('exit', (code) => resolve(code)));
}

/** This machine's first non-loopback IPv4 address, if it has one. */
function outsideAddress(): string | undefined {
  for (const list of Object.values(os.networkInterfaces()))
    for (const address of list ?? [])
      if (!address.internal && address.family === 'IPv4') return address.address;
  return undefined;
}

describe('listening without authentication', () => {
  it('refuses any address but loopback without a token or --insecure, before doing anything', async () => {
    const dummy = { DATABASE_URL: 'postgres://nowhere/none', REDIS_URL: 'redis://nowhere:1' };
    const refusals = [
      ['dev', '--host', '0.0.0.0'],
      ['dev', '--host', '::'],
      ['dev', '--host', '127.0.0.1.evil.example'],
      ['master'], // the master's default is 0.0.0.0
      ['master', '--host', '10.1.2.3'],
    ];
    for (const args of refusals) {
      const proc = run([...args, '--data-dir', await tempDir('pacer-refuse')], dummy);
      expect(await exitCode(proc), args.join(' ')).toBe(2);
      expect(proc.output()).toContain('without authentication');
    }
    const viaEnv = run(['dev'], { ...dummy, PACER_HOST: '0.0.0.0' });
    expect(await exitCode(viaEnv)).toBe(2);
    const shortToken = run(['master'], { ...dummy, PACER_BOOTSTRAP_TOKEN: 'short' });
    expect(await exitCode(shortToken)).toBe(2);
    expect(shortToken.output()).toContain('at least 16 characters');
  });

  it('pacer dev binds 127.0.0.1 by default, and with --insecure serves 0.0.0.0 with a warning', async () => {
    const port = await freePort();
    const dev = run(['dev', '--port', String(port), '--data-dir', await tempDir('pacer-loop')]);
    await waitForApi(`http://127.0.0.1:${port}`, dev);
    const outside = outsideAddress();
    if (outside !== undefined) {
      await expect(fetch(`http://${outside}:${port}/ping`)).rejects.toThrow();
    }
    expect(dev.output()).not.toContain('INSECURE');
    await dev.stop();

    const insecurePort = await freePort();
    const insecure = run([
      'dev',
      '--host',
      '0.0.0.0',
      '--insecure',
      '--port',
      String(insecurePort),
      '--data-dir',
      await tempDir('pacer-insecure'),
    ]);
    await waitForApi(`http://127.0.0.1:${insecurePort}`, insecure);
    expect(insecure.output()).toMatch(/"level":40.*INSECURE: authentication is off/);
    // Off means off: no credentials needed.
    expect((await fetch(`http://127.0.0.1:${insecurePort}/v2/apps`)).status).toBe(200);
    await insecure.stop();
  }, 180_000);
});

const hasServices = (await hasService('postgres')) && (await hasService('redis'));

describe.skipIf(!hasServices)('two masters bootstrapping one database at once', () => {
  it('create one bootstrap principal, and the follower relays credentials to the leader', async () => {
    const cluster = await prepareCluster();
    const tokens = ['first-bootstrap-secret-aaaa', 'second-bootstrap-secret-bbbb'];
    const ports = [cluster.port, await freePort()];
    const masters = tokens.map((token, n) =>
      run(['master', '--host', '0.0.0.0', '--port', String(ports[n])], {
        ...cluster.env,
        PACER_BOOTSTRAP_TOKEN: token,
        PACER_PUBLIC_URL: `http://127.0.0.1:${ports[n]}`,
      }),
    );
    try {
      await Promise.all(ports.map((port, n) => waitForApi(`http://127.0.0.1:${port}`, masters[n])));
      const status = (port: number, auth?: string) =>
        fetch(
          `http://127.0.0.1:${port}/v2/apps`,
          auth ? { headers: { Authorization: auth } } : {},
        ).then((r) => r.status);
      // Wait until one leads and both know it (a follower that knows no leader answers 502 to
      // an authenticated request): both name the same leader on /ping.
      const leaderOf = async (port: number) =>
        (await fetch(`http://127.0.0.1:${port}/ping`)).headers.get('x-marathon-leader');
      await waitFor(
        'a leader both masters know',
        async () => {
          const named = await Promise.all(ports.map((port) => leaderOf(port ?? 0)));
          return named[0] !== null && named[0] === named[1];
        },
        30_000,
      );
      const works = await Promise.all(
        tokens.map((token) => status(ports[0] ?? 0, `Bearer ${token}`)),
      );
      // Exactly one of the two secrets became the bootstrap principal's.
      expect([...works].sort()).toEqual([200, 401]);
      const winning = tokens[works.indexOf(200)] ?? '';
      for (const port of ports) {
        expect(await status(port ?? 0), `no credentials at ${port}`).toBe(401);
        expect(await status(port ?? 0, `Bearer ${winning}`), `winner at ${port}`).toBe(200);
        expect(await status(port ?? 0, `Bearer ${winning}x`), `wrong at ${port}`).toBe(401);
      }
      expect(masters.some((m) => m.output().includes('authentication bootstrapped'))).toBe(true);
      expect(
        masters.filter((m) => m.output().includes('authentication bootstrapped')),
      ).toHaveLength(1);
    } finally {
      await Promise.all(masters.map((m) => m.stop()));
      await cluster.db.drop();
    }
  }, 120_000);
});
