// `pacer lb` against an HTTPS master: it verifies the master against --ca (events and apps), is
// refused by a master its CA does not vouch for, and a --ca file that is missing is a usage error.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type RunningHttpServer } from '../src/api/http-server.js';
import { createTestApi, type TestApi } from './support/api-doubles.js';
import { freePort, startPacer } from './support/cluster.js';
import { hasCommand } from './support/services.js';
import { createThrowawayCa, type ThrowawayCa } from './support/throwaway-ca.js';
import { waitFor } from './support/wait-for.js';

const hasOpenssl = await hasCommand('openssl', ['version']);

describe.skipIf(!hasOpenssl)('pacer lb and an HTTPS master', () => {
  let ca: ThrowawayCa;
  let api: TestApi;
  let server: RunningHttpServer;
  let master: string;

  beforeAll(async () => {
    ca = await createThrowawayCa();
    api = await createTestApi();
    server = await startHttpServer({
      app: api.app,
      port: 0,
      host: '127.0.0.1',
      tls: { certFile: ca.certFile, keyFile: ca.keyFile },
    });
    master = `https://localhost:${server.port}`;
  });

  afterAll(async () => {
    await server?.close();
    await api?.close();
    await ca?.remove();
  });

  async function status(port: number): Promise<any> {
    const response = await fetch(`http://127.0.0.1:${port}/_pacer/lb/status`).catch(
      () => undefined,
    );
    return response?.ok ? await response.json() : undefined;
  }

  it('follows the master when --ca vouches for it, and not when another CA is given', async () => {
    for (const [caFile, isTrusted] of [
      [ca.caFile, true],
      [ca.otherCaFile, false],
    ] as const) {
      const port = await freePort();
      const lb = startPacer(
        ['lb', '--port', String(port), '--host', '127.0.0.1', '--master', master, '--ca', caFile],
        {
          PACER_CONFIG: '/nonexistent/pacer.json',
        },
      );
      try {
        if (isTrusted) {
          // Synced and connected in one status read: on a loaded machine the stream may
          // reconnect between two reads, which is no failure to verify the master.
          await waitFor('the apps read over HTTPS, the stream connected', async () => {
            const now = await status(port);
            return Boolean(now?.eventStream.lastSyncAt && now.eventStream.connected);
          });
        } else {
          await waitFor('the refusal logged', () => /event stream lost/.test(lb.output()), 30_000);
          const seen = await status(port);
          expect(seen.eventStream).toMatchObject({ connected: false, lastSyncAt: null });
        }
      } finally {
        await lb.stop();
      }
    }
  }, 60_000);

  it('exits with a usage error when the --ca file is missing', async () => {
    const lb = startPacer(
      [
        'lb',
        '--port',
        String(await freePort()),
        '--master',
        master,
        '--ca',
        path.join(ca.dir, 'absent.crt'),
      ],
      {
        PACER_CONFIG: '/nonexistent/pacer.json',
      },
    );
    const code = await new Promise<number | null>((resolve) => lb.child.once('exit', resolve));
    expect(code).toBe(2);
    expect(lb.output()).toMatch(/--ca .*absent\.crt: ENOENT/);
  });
});
