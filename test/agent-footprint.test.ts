// What keeps an idle agent small (issue 14; the figure itself is bench/agent.ts): its modules
// never load zod, nor ioredis through the ES module loader, and `pacer agent` started through
// bin/pacer is one node process with the V8 flags that only work at start, which stops on
// SIGTERM with code 0. Run `npm run build` first: both run dist/.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { startPacer, tempDir, waitFor } from './support/cluster.js';
import { REDIS_URL, hasService, redisPrefix } from './support/services.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const ok = await hasService('redis');

/** The URL of every module the agent's entry points load through the ES module loader. */
async function modulesOfAgent(): Promise<string[]> {
  // A loader hook records every module the agent's entry points import, statically or not.
  const dir = await tempDir('pacer-footprint');
  const hooks = path.join(dir, 'hooks.mjs');
  const loaded = path.join(dir, 'loaded.txt');
  await writeFile(
    hooks,
    `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(${JSON.stringify(loaded)}, url + '\\n');
  return next(url, context);
}`,
  );
  const script = `import { register } from 'node:module';
register(${JSON.stringify(`file://${hooks}`)});
await import(${JSON.stringify(path.join(ROOT, 'dist/agent/main.js'))});
await import(${JSON.stringify(path.join(ROOT, 'dist/agent/credentials.js'))});`;
  await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
  return (await readFile(loaded, 'utf8')).split('\n');
}

describe('the agent footprint', () => {
  it("loads no zod with the agent's modules", async () => {
    const urls = await modulesOfAgent();
    expect(urls.some((url) => url.endsWith('/dist/agent/agent.js'))).toBe(true);
    expect(urls.some((url) => url.endsWith('/dist/bus/command-schema.js'))).toBe(true);
    expect(urls.filter((url) => url.includes('/node_modules/zod/'))).toEqual([]);
  });

  it('loads ioredis with require, so Node does not scan its source for export names', async () => {
    const urls = await modulesOfAgent();
    expect(urls.some((url) => url.endsWith('/dist/bus/ioredis.js'))).toBe(true);
    expect(urls.filter((url) => url.includes('/node_modules/ioredis/'))).toEqual([]);
  });

  it.skipIf(!ok)(
    'runs `pacer agent` as one node process with its V8 flags, its task threads too, stopped by SIGTERM with 0',
    async () => {
      const agent = startPacer(
        ['agent', '--hostname', 'footprint', '--work-dir', await tempDir('pacer-footprint')],
        {
          REDIS_URL,
          PACER_BUS_PREFIX: redisPrefix(),
          // Never contacted: the agent reaches the master only to fetch artifacts.
          PACER_MASTER_URL: 'http://127.0.0.1:1',
          // Task threads and binaryen's helper at once: they must start under the agent's flags.
          PACER_WASM_PREWARM: '1',
        },
        { viaLauncher: true },
      );
      await waitFor('the agent to start', async () => agent.output().includes('agent started'));
      // exec: the pid the supervisor started is node's, with the flags before the script.
      const cmdline = (await readFile(`/proc/${agent.child.pid}/cmdline`, 'utf8')).split('\0');
      expect(path.basename(cmdline[0] ?? '')).toBe('node');
      expect(cmdline.slice(1, 3)).toEqual(['--max-semi-space-size=1', '--no-opt']);
      expect(cmdline.slice(4, 5)).toEqual(['agent']);
      const exited = new Promise((resolve) => agent.child.once('exit', resolve));
      agent.child.kill('SIGTERM');
      expect(await exited).toBe(0);
    },
  );

  it('passes other commands and their exit codes through bin/pacer unchanged', async () => {
    const run = promisify(execFile);
    const { stdout } = await run(path.join(ROOT, 'bin/pacer'), ['--version']);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const bad = await run(path.join(ROOT, 'bin/pacer'), ['nonsense']).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(bad).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("Unknown command 'nonsense'"),
    });
  });
});
