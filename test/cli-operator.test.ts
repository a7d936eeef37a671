// The operator CLI (`pacer app|task|deployment|agent|artifact`) against a real `pacer dev` with
// authentication on: push a module, deploy and wait, list, scale, read logs, kill a task, roll
// back, delete; and the answers an operator gets for 401, 404, 422 and a deployment that hangs.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './support/wait-for.js';
import { freePort, startPacer, tempDir, waitForApi, type PacerProcess } from './support/cluster.js';

const SERVICE_WASM = path.resolve('wasm-tasks/build/service.wasm');
const TOKEN = 'cli-test-bootstrap-secret-0123456789';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('pacer operator commands', () => {
  let dev: PacerProcess;
  let dir: string;
  let url: string;
  let moduleUri: string;

  /** Runs `pacer args…` as an operator would, with the master and token from the environment. */
  function pacer(args: string[], env: Record<string, string> = {}): Promise<Run> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        ['bin/pacer.js', ...args],
        {
          env: {
            ...process.env,
            PACER_URL: url,
            PACER_TOKEN: TOKEN,
            PACER_CONFIG: path.join(dir, 'no-config.json'),
            ...env,
          },
          timeout: 60_000,
        },
        (error, stdout, stderr) =>
          resolve({
            code: error ? Number((error as { code?: number }).code ?? 1) : 0,
            stdout,
            stderr,
          }),
      );
    });
  }

  async function appFile(name: string, app: Record<string, unknown>): Promise<string> {
    const file = path.join(dir, `${name}.json`);
    await writeFile(file, JSON.stringify(app));
    return file;
  }

  const serviceApp = (id: string, instances: number) => ({
    id,
    cmd: 'service.wasm 100',
    cpus: 0.1,
    mem: 16,
    instances,
    fetch: [{ uri: moduleUri }],
  });

  beforeAll(async () => {
    dir = await tempDir('pacer-cli');
    const tokenFile = path.join(dir, 'token');
    await writeFile(tokenFile, TOKEN);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    dev = startPacer(
      [
        'dev',
        '--port',
        String(port),
        '--data-dir',
        path.join(dir, 'data'),
        '--bootstrap-token-file',
        tokenFile,
      ],
      {},
    );
    await waitForApi(url, dev);
  }, 60_000);

  afterAll(async () => {
    await dev?.stop();
  });

  it('pushes a module and prints its URI', async () => {
    const pushed = await pacer(['artifact', 'push', SERVICE_WASM]);
    expect(pushed.stderr).toBe('');
    expect(pushed.code).toBe(0);
    moduleUri = `${pushed.stdout.trim()}/service.wasm`;
    expect(moduleUri).toMatch(/\/v2\/artifacts\/sha256:[0-9a-f]{64}\/service\.wasm$/);
  });

  it('deploys an app and waits for its deployment, showing progress', async () => {
    const file = await appFile('web', serviceApp('/cli/web', 2));
    const deployed = await pacer(['app', 'deploy', file]);
    expect(deployed.code).toBe(0);
    expect(deployed.stdout).toMatch(/^deployment \S+ succeeded$/m);
    // Not a terminal: one line per change of the display, the last with everything running.
    expect(deployed.stderr).toMatch(/running 2\/2\s+healthy 0/);

    const listed = await pacer(['app', 'list']);
    expect(listed.stdout).toMatch(/^ID\s+RUNNING/);
    expect(listed.stdout).toMatch(/^\/cli\/web\s+2\/2\s/m);
    const json = JSON.parse((await pacer(['app', 'list', '--json'])).stdout) as {
      id: string;
      tasksRunning: number;
    }[];
    expect(json).toEqual([expect.objectContaining({ id: '/cli/web', tasksRunning: 2 })]);
  }, 60_000);

  it('scales, shows tasks, reads logs, kills a task and rolls back', async () => {
    expect((await pacer(['app', 'scale', '/cli/web', '3'])).code).toBe(0);
    const tasks = JSON.parse((await pacer(['app', 'tasks', 'cli/web', '--json'])).stdout) as {
      id: string;
      state: string;
    }[];
    expect(tasks.map((t) => t.state)).toEqual(['TASK_RUNNING', 'TASK_RUNNING', 'TASK_RUNNING']);
    // Fuel used: the running figure the agent reports in its offers (each tick is a host call).
    await waitFor(
      'the fuel of a running task',
      async () => {
        const now = JSON.parse((await pacer(['app', 'tasks', '/cli/web', '--json'])).stdout) as {
          fuelUsed?: number;
        }[];
        return now.some((t) => (t.fuelUsed ?? 0) > 0);
      },
      { timeoutMs: 20_000, maxIntervalMs: 250 },
    );
    const taskTable = await pacer(['app', 'tasks', '/cli/web']);
    expect(taskTable.stdout).toMatch(/^TASK\s+HOST\s+PORTS\s+STATE\s+HEALTH\s+FUEL USED\s+STARTED/);
    expect(taskTable.stdout).toMatch(/TASK_RUNNING\s+-\s+[1-9]\d*\s/);
    const shown = await pacer(['app', 'show', '/cli/web']);
    expect(shown.stdout).toContain('3 running of 3');
    for (const task of tasks) expect(shown.stdout).toContain(task.id);

    await waitFor(
      'the task logs',
      async () => /tick \d+/.test((await pacer(['app', 'logs', '/cli/web'])).stdout),
      { timeoutMs: 10_000, maxIntervalMs: 200 },
    );

    const victim = tasks[0]?.id as string;
    const killed = await pacer(['task', 'kill', victim]);
    expect(killed.code).toBe(0);
    await waitFor(
      'the killed task replaced',
      async () => {
        const now = JSON.parse((await pacer(['app', 'tasks', '/cli/web', '--json'])).stdout) as {
          id: string;
          state: string;
        }[];
        expect(now.map((t) => t.id)).not.toContain(victim);
        expect(now.filter((t) => t.state === 'TASK_RUNNING')).toHaveLength(3);
        return true;
      },
      { timeoutMs: 20_000, maxIntervalMs: 250 },
    );

    // Back to the version before the scale: 2 instances.
    const rolledBack = await pacer(['app', 'rollback', '/cli/web']);
    expect(rolledBack.code).toBe(0);
    expect(rolledBack.stderr).toMatch(/running 2\/2/);
    expect((await pacer(['deployment', 'list', '--json'])).stdout.trim()).toBe('[]');
    const agents = await pacer(['agent', 'list']);
    expect(agents.stdout).toMatch(/^ID\s+HOSTNAME\s+STATE/);
    expect(agents.stdout).toMatch(/FREE BY ROLE/);
    // The dev agent's defaults reserve nothing: only `*`, with what the 2 tasks leave free.
    expect(agents.stdout).toMatch(/\s\*:\d+(\.\d+)?cpu,\d+M,\d+D\s/);
    expect(agents.stdout.trim().split('\n')).toHaveLength(2);
  }, 90_000);

  it("deletes an app; then the app is unknown (exit 1, the master's message)", async () => {
    expect((await pacer(['app', 'delete', '/cli/web'])).code).toBe(0);
    await waitFor(
      'the app gone',
      async () => {
        const shown = await pacer(['app', 'show', '/cli/web']);
        expect(shown.code).toBe(1);
        expect(shown.stderr).toBe("pacer: App '/cli/web' does not exist\n");
        return true;
      },
      { timeoutMs: 10_000, maxIntervalMs: 200 },
    );
  }, 30_000);

  it('explains 401, 422, a usage error and a deployment that does not finish', async () => {
    const anonymous = await pacer(['app', 'list'], { PACER_TOKEN: '' });
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toMatch(/no or wrong credentials; set PACER_TOKEN/);

    const invalid = await pacer([
      'app',
      'deploy',
      await appFile('bad', { id: '/cli/bad', cmd: 'x.wasm', cpus: -1 }),
    ]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/Object is not valid\n\s+\/cpus: /);

    const usage = await pacer(['app', 'scale', '/cli/web']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('Usage: pacer app scale ID N');

    // A module that cannot be fetched never runs: the wait ends at --timeout, exit 1.
    const hanging = await pacer([
      'app',
      'deploy',
      '--timeout',
      '2',
      await appFile('hang', {
        ...serviceApp('/cli/hang', 1),
        fetch: [{ uri: `${url}/v2/artifacts/sha256:${'0'.repeat(64)}/x.wasm` }],
      }),
    ]);
    expect(hanging.code).toBe(1);
    expect(hanging.stdout).toMatch(/still running after 2 s/);
    expect(hanging.stderr).toMatch(/last failure: TASK_FAILED/);
  }, 60_000);
});
