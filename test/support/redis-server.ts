// A throwaway redis-server on a free port, for tests that kill and restart Redis. By default it
// keeps nothing on disk, so a restart comes back empty; with `persistDir` it keeps an append-only
// file synced at every write, so even a SIGKILL loses nothing it acknowledged.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

export const REDIS_SERVER_BIN = process.env.REDIS_SERVER_BIN ?? '/usr/bin/redis-server';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Starts (or starts again) on the same port; resolves when it accepts connections. */
  start(): Promise<void>;
  /** Kills the process (SIGKILL) and waits for it to exit. */
  kill(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** With `tls`, it listens for TLS only (`rediss://`), clients not asked for certificates. */
export async function createRedisServer(
  options: {
    tls?: { certFile: string; keyFile: string; caFile: string };
    /** Keep an append-only file here (fsync always) and reload it at each start. */
    persistDir?: string;
  } = {},
): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const { tls } = options;
  const listen = tls
    ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.certFile]
    : ['--port', String(port)];
  const tlsFiles = tls
    ? ['--tls-key-file', tls.keyFile, '--tls-ca-cert-file', tls.caFile, '--tls-auth-clients', 'no']
    : [];
  const persistence = options.persistDir
    ? ['--dir', options.persistDir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always']
    : ['--save', '', '--appendonly', 'no'];
  return {
    port,
    url: `${tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
    async start() {
      const proc = spawn(
        REDIS_SERVER_BIN,
        [...listen, ...tlsFiles, '--bind', '127.0.0.1', ...persistence],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      child = proc;
      // Never left behind, however the test process ends (a timed-out hook skips the cleanup).
      const killOnExit = () => proc.kill('SIGKILL');
      process.once('exit', killOnExit);
      proc.once('exit', () => process.removeListener('exit', killOnExit));
      await new Promise<void>((resolve, reject) => {
        let output = '';
        const timer = setTimeout(
          () => reject(new Error(`redis-server did not start:\n${output}`)),
          10_000,
        );
        proc.stdout?.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes('Ready to accept connections')) {
            clearTimeout(timer);
            resolve();
          }
        });
        proc.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`redis-server exited with ${String(code)}:\n${output}`));
        });
      });
    },
    async kill() {
      const proc = child;
      child = undefined;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGKILL');
      });
    },
  };
}
