// A throwaway Postgres server that accepts only TLS connections, with a certificate from a
// throwaway CA: initdb in a temporary directory, run as the `postgres` system user (Postgres
// refuses to run as root), `hostssl` only in pg_hba.conf.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import {
  chmod,
  chown,
  copyFile,
  mkdtemp,
  readFile,
  readdir,
  rm,
  writeFile,
} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './cluster.js';

const run = promisify(execFile);

export interface TlsPostgres {
  port: number;
  stop(): Promise<void>;
}

/** The directory of initdb and postgres, or undefined where the server is not installed. */
export async function postgresBinDir(): Promise<string | undefined> {
  const versions = await readdir('/usr/lib/postgresql').catch(() => []);
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  return newest === undefined ? undefined : `/usr/lib/postgresql/${newest}/bin`;
}

/** Starts the server with `certFile`/`keyFile`; answers once it accepts connections. */
export async function startTlsPostgres(options: {
  certFile: string;
  keyFile: string;
}): Promise<TlsPostgres> {
  const bin = await postgresBinDir();
  if (!bin) throw new Error('no Postgres server installed under /usr/lib/postgresql');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pacer-tls-pg-'));
  const { uid, gid } = await postgresUser();
  const data = path.join(dir, 'data');
  await chown(dir, uid, gid);
  const asPostgres = (file: string, args: string[]) =>
    process.getuid?.() === 0
      ? run('runuser', ['-u', 'postgres', '--', file, ...args])
      : run(file, args);
  await asPostgres(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust']);
  // The key must belong to the server's user with no access for others.
  for (const [from, to] of [
    [options.certFile, 'server.crt'],
    [options.keyFile, 'server.key'],
  ] as const) {
    await copyFile(from, path.join(data, to));
    await chown(path.join(data, to), uid, gid);
    await chmod(path.join(data, to), 0o600);
  }
  await writeFile(
    path.join(data, 'pg_hba.conf'),
    'hostssl all all 127.0.0.1/32 trust\nhostssl all all ::1/128 trust\n',
  );
  const port = await freePort();
  const args = ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1'];
  args.push('-c', 'ssl=on', '-c', 'fsync=off');
  const child: ChildProcess =
    process.getuid?.() === 0
      ? spawn('runuser', ['-u', 'postgres', '--', path.join(bin, 'postgres'), ...args], {
          stdio: 'ignore',
        })
      : spawn(path.join(bin, 'postgres'), args, { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let attempt = 0; ; attempt++) {
    const ready = await run(path.join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port)])
      .then(() => true)
      .catch(() => false);
    if (ready) break;
    if (attempt > 100 || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error('the TLS Postgres did not start');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    port,
    async stop() {
      // SIGINT to the postmaster itself (runuser does not pass it on): a fast shutdown.
      const pid = Number(
        (await readFile(path.join(data, 'postmaster.pid'), 'utf8')).split('\n')[0],
      );
      process.kill(pid, 'SIGINT');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function postgresUser(): Promise<{ uid: number; gid: number }> {
  if (process.getuid?.() !== 0)
    return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  const { stdout: uid } = await run('id', ['-u', 'postgres']);
  const { stdout: gid } = await run('id', ['-g', 'postgres']);
  return { uid: Number(uid), gid: Number(gid) };
}
