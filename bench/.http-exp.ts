import { fork } from 'node:child_process';
import autocannon from 'autocannon';
const mode = process.argv[2];
if (mode === 'serve') {
  const { Hono } = await import('hono');
  const { startHttpServer } = await import('../src/api/http-server.js');
  const kind = process.argv[3];
  let app;
  if (kind === 'hello') { app = new Hono(); app.get('/', (c) => c.text('hello')); }
  else {
    const { createTestApi } = await import('../test/support/api-doubles.js');
    const { createApi } = await import('../src/api/index.js');
    const { normalizeApp } = await import('../src/api/v2/wire/app-normalize.js');
    const test = await createTestApi();
    const now = new Date().toISOString();
    for (let n = 0; n < 50; n++) {
      const id = `/bench/group-${n % 20}/app-${n}`;
      const r = normalizeApp({ id, cmd: 'hello.wasm', cpus: 0.01, mem: 16, instances: 1 }, { id });
      if (!r.ok) throw new Error();
      await test.store.apps.put({ ...r.value, version: now, versionInfo: { lastScalingAt: now, lastConfigChangeAt: now } });
    }
    app = createApi({ ...test.deps, readCacheMs: 1000 });
  }
  const s = await startHttpServer({ app, port: 0, host: '127.0.0.1' });
  process.send?.({ port: s.port });
} else {
  const start = (k: string) => { const child = fork(new URL(import.meta.url).pathname, ['serve', k], { execArgv: ['--import', 'tsx'] }); return new Promise<{ child: any; port: number }>((r) => child.once('message', (m: any) => r({ child, port: m.port }))); };
  const h = await start('hello'); const a = await start('api');
  const run = async (url: string) => { await autocannon({ url, connections: 16, duration: 1 }); const r = await autocannon({ url, connections: 16, duration: 4 }); return Math.round(r.requests.average); };
  for (let i = 0; i < 2; i++) {
    console.log('hello', await run(`http://127.0.0.1:${h.port}/`));
    console.log('ping', await run(`http://127.0.0.1:${a.port}/ping`));
    console.log('getApp', await run(`http://127.0.0.1:${a.port}/v2/apps/bench/group-7/app-7`));
  }
  h.child.kill(); a.child.kill();
}
