// End to end through `pacer dev` (embedded PGlite, in-process bus): the first thing a user runs.
import { readFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiClient,
  followStatusEvents,
  freePort,
  startPacer,
  tempDir,
  waitFor,
  waitForApi,
  type PacerProcess,
  type StatusEvent,
} from './support/cluster.js';

const HELLO_WASM = path.resolve('wasm-tasks/build/hello.wasm');
const SERVICE_WASM = path.resolve('wasm-tasks/build/service.wasm');

describe('pacer dev', () => {
  let dev: PacerProcess;
  let dataDir: string;
  let port: number;
  let api: ReturnType<typeof apiClient>;

  async function startDev(): Promise<void> {
    dev = startPacer(
      ['dev', '--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir],
      {},
    );
    await waitForApi(api.url, dev);
  }

  beforeAll(async () => {
    dataDir = await tempDir('pacer-dev');
    port = await freePort();
    api = apiClient(`http://127.0.0.1:${port}`);
    await startDev();
  }, 60_000);

  afterAll(async () => {
    await dev?.stop();
  });

  it('lists its subcommands with --help', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['bin/pacer.js', '--help']);
    for (const command of ['dev', 'master', 'agent'])
      expect(stdout).toMatch(new RegExp(`^\\s+${command}\\s`, 'm'));
  });

  it('answers /ping and /v2/info as Marathon does', async () => {
    const ping = await api.get('/ping');
    expect(ping.status).toBe(200);
    expect(ping.body).toBe('pong');
    const info = await api.get('/v2/info');
    expect(info.status).toBe(200);
    for (const key of ['http_config', 'marathon_config', 'zookeeper_config'])
      expect(typeof info.body[key]).toBe('object');
    expect(info.body).toMatchObject({
      name: expect.any(String),
      version: expect.any(String),
      elected: true,
    });
  });

  it('runs a Wasm module that prints and exits, and serves what it printed', async () => {
    const bytes = await readFile(HELLO_WASM);
    const upload = await api.post('/v2/artifacts', new Uint8Array(bytes), {
      'content-type': 'application/wasm',
    });
    expect(upload.status).toBe(201);
    const events = await followStatusEvents(api.url);
    const created = await api.post('/v2/apps', {
      id: '/hello',
      cpus: 0.1,
      mem: 16,
      fetch: [{ uri: `${upload.body.uri}/hello.wasm` }],
      cmd: 'hello.wasm',
      env: { NAME: 'dev' },
    });
    expect(created.status).toBe(201);
    // hello exits 0 at once and is relaunched after its backoff, hidden from the task list
    // meanwhile: the event stream names the task that finished.
    const isFinished = (e: StatusEvent) => e.appId === '/hello' && e.taskStatus === 'TASK_FINISHED';
    const finished = (await events.until((all) => all.some(isFinished))).find(isFinished);
    expect(finished).toBeDefined();
    const logs = await api.get(`/v2/tasks/${finished?.taskId}/logs?stream=stdout`);
    const line = (logs.body.lines as { line: string }[]).some((l) => l.line === 'hello dev');
    expect(line).toBe(true);
    expect((await api.delete('/v2/apps/hello')).status).toBe(200);
  });

  it('keeps apps across a restart and runs their instances again', async () => {
    const bytes = await readFile(SERVICE_WASM);
    const upload = await api.post('/v2/artifacts', new Uint8Array(bytes), {
      'content-type': 'application/wasm',
    });
    const created = await api.post('/v2/apps', {
      id: '/kept',
      instances: 3,
      cpus: 0.1,
      mem: 16,
      fetch: [{ uri: `${upload.body.uri}/service.wasm` }],
      cmd: 'service.wasm',
    });
    expect(created.status).toBe(201);
    const running = async () => {
      const tasks = (await api.get('/v2/apps/kept/tasks')).body.tasks as { state: string }[];
      return tasks.length === 3 && tasks.every((t) => t.state === 'TASK_RUNNING');
    };
    await waitFor('3 running tasks', running);
    await dev.stop();
    await startDev();
    const app = await api.get('/v2/apps/kept');
    expect(app.status).toBe(200);
    expect(app.body.app.instances).toBe(3);
    await waitFor('3 running tasks after restart', running, 30_000);
    expect((await api.delete('/v2/apps/kept')).status).toBe(200);
  });
});
