// A `pacer dev` (authentication on, command tasks allowed) for the balancer's tests and bench,
// an admin client for it, and view-only tokens for the balancer.
import { chmod, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { freePort, startPacer, tempDir, waitFor, type PacerProcess } from './cluster.js';

const ADMIN_TOKEN = 'lb-test-bootstrap-secret-0123456789abcdef';

export interface LbDev {
  url: string;
  dev: PacerProcess;
  /** A JSON call as the bootstrap admin. */
  call(method: string, pathname: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** A new token with `grants`; its secret. */
  token(name: string, grants: { path: string; actions: string[] }[]): Promise<string>;
  /** The app's tasks once `count` run with every health check alive. */
  healthyTasks(
    appId: string,
    count: number,
    timeoutMs?: number,
  ): Promise<{ id: string; ports: number[] }[]>;
  stop(): Promise<void>;
}

export async function startLbDev(): Promise<LbDev> {
  const dir = await tempDir('pacer-lb');
  // Tasks run as nobody when the agent is root: the data dir must be searchable by it.
  await chmod(dir, 0o755);
  const tokenFile = path.join(dir, 'bootstrap-token');
  await writeFile(tokenFile, ADMIN_TOKEN);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dev = startPacer(
    [
      'dev',
      '--port',
      String(port),
      '--data-dir',
      path.join(dir, 'data'),
      '--bootstrap-token-file',
      tokenFile,
      '--allow-commands',
    ],
    { PACER_OFFER_INTERVAL_MS: '200' },
  );
  // Generous: on a loaded machine `pacer dev` takes a while to open its embedded state.
  await waitFor(
    `pacer dev at ${url}`,
    async () => {
      if (dev.child.exitCode !== null) throw new Error(`pacer dev exited:\n${dev.output()}`);
      return (await fetch(`${url}/ping`)).ok;
    },
    90_000,
  ).catch(async (error: unknown) => {
    // Never leave it behind: a test runner's worker may outlive the failed suite.
    await dev.stop();
    await rm(dir, { recursive: true, force: true });
    throw new Error(`${String(error)}\n${dev.output().slice(-6000)}`);
  });

  async function call(method: string, pathname: string, body?: unknown) {
    const response = await fetch(url + pathname, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  }

  return {
    url,
    dev,
    call: call,
    async token(name, grants) {
      const created = await call('POST', '/v2/acl/tokens', { name, grants });
      if (created.status !== 201)
        throw new Error(`token ${name}: ${created.status} ${JSON.stringify(created.body)}`);
      return (created.body as { secret: string }).secret;
    },
    async healthyTasks(appId, count, timeoutMs = 60_000) {
      return waitFor(
        `${count} healthy tasks of ${appId}`,
        async () => {
          const { body } = await call('GET', `/v2/apps${appId}/tasks`);
          const tasks = (
            body as {
              tasks: {
                id: string;
                state: string;
                ports: number[];
                healthCheckResults: { alive: boolean }[];
              }[];
            }
          ).tasks;
          const healthy = tasks.filter(
            (t) =>
              t.state === 'TASK_RUNNING' &&
              t.healthCheckResults.length > 0 &&
              t.healthCheckResults.every((h) => h.alive),
          );
          return healthy.length === count && tasks.length === count ? healthy : undefined;
        },
        timeoutMs,
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}\n${dev.output().slice(-6000)}`);
      });
    },
    async stop() {
      const apps = (await call('GET', '/v2/apps').catch(() => ({ body: { apps: [] } }))).body as {
        apps: { id: string }[];
      };
      for (const app of apps.apps ?? []) await call('DELETE', `/v2/apps${app.id}?force=true`);
      // Command tasks outlive their agent by design: end them before the dev process.
      await waitFor(
        'no tasks left',
        async () =>
          ((await call('GET', '/v2/tasks')).body as { tasks: unknown[] }).tasks.length === 0,
        30_000,
      ).catch(() => {});
      await dev.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
