// Real Postgres, Redis and tools for tests: probes, fresh databases and key prefixes per run.
// With REQUIRE_SERVICES=1 a missing service or tool fails the run; without it the tests that
// need it are skipped, and we say so loudly.
import { randomUUID } from 'node:crypto';
import net from 'node:net';

export const POSTGRES_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const required = process.env.REQUIRE_SERVICES === '1';

function probe(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * `ok`, when what tests need is there. When it is not (`missing` says what is wrong): throws
 * under REQUIRE_SERVICES=1, otherwise prints a warning and returns false (use with
 * `describe.skipIf(!ok)`).
 */
export function available(ok: boolean, missing: string): boolean {
  if (ok) return true;
  if (required) throw new Error(`REQUIRE_SERVICES=1 but ${missing}`);
  console.warn(`\n⚠️  SKIPPED: ${missing}; tests that need it are skipped.\n`);
  return false;
}

/** True when the service answers; see `available`. */
export async function hasService(name: 'postgres' | 'redis'): Promise<boolean> {
  const url = name === 'postgres' ? POSTGRES_URL : REDIS_URL;
  return available(await probe(url), `${name} does not answer at ${url}`);
}

/** True when `command ...args` runs and exits 0 (a tool the tests use); see `available`. */
export async function hasCommand(command: string, args: string[]): Promise<boolean> {
  const { execFile } = await import('node:child_process');
  const ok = await new Promise<boolean>((resolve) =>
    execFile(command, args, (error) => resolve(error === null)),
  );
  return available(ok, `\`${[command, ...args].join(' ')}\` does not run on this host`);
}

/** A unique name for this run, for databases and key prefixes. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
}

/** Creates a fresh, empty database; returns its URL and a function that drops it. */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const { default: postgres } = await import('postgres');
  const name = uniqueName('pacer_test');
  const admin = postgres(POSTGRES_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const sql = postgres(POSTGRES_URL, { max: 1, onnotice: () => {} });
      await sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await sql.end();
    },
  };
}

/** A fresh Redis key prefix (`pacer_test_<id>:`) so runs never see each other's streams. */
export function redisPrefix(): string {
  return `${uniqueName('pacer_test')}:`;
}

/** Debian's Chromium, which the browser tests drive with playwright-core. */
export const CHROMIUM_PATH = process.env.TEST_CHROMIUM_PATH ?? '/usr/bin/chromium';

/** True when Chromium is installed; see `available`. */
export async function hasBrowser(): Promise<boolean> {
  const { access } = await import('node:fs/promises');
  const ok = await access(CHROMIUM_PATH).then(
    () => true,
    () => false,
  );
  return available(ok, `there is no Chromium at ${CHROMIUM_PATH}`);
}
