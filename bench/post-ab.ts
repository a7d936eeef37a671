// A/B of the master's cost per POST /v2/apps on Postgres between two builds, in one run: each
// server (bench/api.ts `--serve postgres`, 1,000 apps seeded) takes POST load in alternating
// rounds, and the server process's CPU time per POST (/proc/<pid>/stat) is compared. On a
// shared 2-core machine requests/s swing with the neighbours; CPU per request far less.
//
//   BASE=<dir> node --import tsx bench/post-ab.ts
//
// BASE is a copy of the other build: its `dist/`, `bench/`, `drizzle/`, `test/support/` and
// `package.json`, with `node_modules` linked to this tree's (e.g. copy them before a change and
// run `npm run build` after it). B is this tree (or NEW). ROUNDS (default 10) rounds of SECONDS
// (default 4) each, after two warm-up rounds per server; prints each round and the medians.
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import autocannon from 'autocannon';
import { createTestDatabase } from '../test/support/services.js';

const BASE = process.env.BASE;
const NEW = process.env.NEW ?? new URL('..', import.meta.url).pathname;
const ROUNDS = Number(process.env.ROUNDS ?? 10);
const SECONDS = Number(process.env.SECONDS ?? 4);
const CONNECTIONS = 16;

interface Server {
  child: ChildProcess;
  port: number;
  drop: () => Promise<void>;
}

interface Figures {
  requestsPerSecond: number;
  cpuMsPerRequest: number;
}

/** CPU time of process `pid` so far, all threads (utime + stime), in ms. */
async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // USER_HZ is 100 on Linux
}

async function start(dir: string): Promise<Server> {
  const db = await createTestDatabase();
  const child = fork(`${dir}/bench/api.ts`, ['--serve', 'postgres'], {
    execArgv: ['--import', 'tsx'],
    cwd: dir,
    env: { ...process.env, BENCH_STORE: db.url },
    stdio: 'inherit',
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: { port: number }) => resolve(message.port));
    child.once('exit', (code) => reject(new Error(`the server of ${dir} exited with ${code}`)));
  });
  return { child, port, drop: db.drop };
}

let created = 0;
async function post(server: Server, tag: string): Promise<Figures> {
  const pid = server.child.pid ?? 0;
  const before = await cpuMs(pid);
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}/v2/apps`,
    connections: CONNECTIONS,
    duration: SECONDS,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: [
      {
        method: 'POST',
        // No instances, no ports: as bench/api.ts's POSTs.
        setupRequest: (request: autocannon.Request) => ({
          ...request,
          body: JSON.stringify({
            id: `/bench/ab/${tag}-${created++}`,
            cmd: 'hello.wasm',
            cpus: 0.01,
            mem: 16,
            instances: 0,
            portDefinitions: [],
          }),
        }),
      },
    ],
  });
  if (result.non2xx > 0) throw new Error(`${tag}: ${result.non2xx} answers were not 2xx`);
  return {
    requestsPerSecond: Math.round(result.requests.average),
    cpuMsPerRequest: ((await cpuMs(pid)) - before) / result.requests.total,
  };
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

async function main(): Promise<void> {
  if (!BASE) throw new Error('BASE=<directory of the other build> is required');
  const [a, b] = await Promise.all([start(BASE), start(NEW)]);
  try {
    for (let turn = 0; turn < 2; turn++) {
      await post(a, 'warm-a');
      await post(b, 'warm-b');
    }
    const rounds: { a: Figures; b: Figures }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Either first in turn, so drift favours neither.
      const isAFirst = round % 2 === 0;
      const first = await post(isAFirst ? a : b, `r${round}`);
      const second = await post(isAFirst ? b : a, `r${round}`);
      const figures = isAFirst ? { a: first, b: second } : { a: second, b: first };
      rounds.push(figures);
      console.log(
        `round ${round}: A ${figures.a.requestsPerSecond}/s ${figures.a.cpuMsPerRequest.toFixed(3)} ms, ` +
          `B ${figures.b.requestsPerSecond}/s ${figures.b.cpuMsPerRequest.toFixed(3)} ms CPU per POST`,
      );
    }
    const cpuA = median(rounds.map((r) => r.a.cpuMsPerRequest));
    const cpuB = median(rounds.map((r) => r.b.cpuMsPerRequest));
    const ratio = median(rounds.map((r) => r.b.cpuMsPerRequest / r.a.cpuMsPerRequest));
    console.log(
      `median CPU ms per POST: A ${cpuA.toFixed(3)}, B ${cpuB.toFixed(3)}; median ratio B/A ` +
        `${ratio.toFixed(2)}; median POST/s A ${median(rounds.map((r) => r.a.requestsPerSecond))}, ` +
        `B ${median(rounds.map((r) => r.b.requestsPerSecond))}`,
    );
  } finally {
    for (const server of [a, b]) {
      const exited = new Promise((resolve) => server.child.once('exit', resolve));
      server.child.kill('SIGTERM');
      await exited;
      await server.drop();
    }
  }
}

await main();
