// libpq's TLS settings in a DATABASE_URL, for postgres.js: `sslmode=verify-full` (or `verify-ca`,
// `require`) with `sslrootcert=/path/ca.crt` verifies the server against that CA. postgres.js
// reads `sslmode` itself but would send `sslrootcert` to the server as a setting (refused), so it
// is taken out of the URL here and its file read into the TLS options.
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';

export interface PostgresConnection {
  /** The URL without `sslrootcert`. */
  url: string;
  /** TLS options when a root certificate file was named. */
  ssl?: ConnectionOptions;
}

/** Splits libpq's `sslrootcert` out of `url`; throws a clear error when its file cannot be read. */
export function postgresConnection(url: string): PostgresConnection {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { url }; // postgres.js reports a malformed URL in its own words.
  }
  const rootCert = parsed.searchParams.get('sslrootcert');
  // `system` is postgres.js's own: the system CAs with full verification.
  if (rootCert === null || rootCert === 'system') return { url };
  const mode = parsed.searchParams.get('sslmode') ?? 'verify-full';
  if (mode === 'disable' || mode === 'allow' || mode === 'prefer') {
    throw new Error(`DATABASE_URL: sslrootcert needs sslmode=verify-full, verify-ca or require`);
  }
  let ca: string;
  try {
    ca = readFileSync(rootCert, 'utf8');
  } catch (error) {
    throw new Error(`DATABASE_URL: sslrootcert ${rootCert}: ${(error as Error).message}`);
  }
  parsed.searchParams.delete('sslrootcert');
  parsed.searchParams.delete('sslmode');
  // As libpq: with a root certificate, `require` verifies the chain like `verify-ca`; only
  // `verify-full` also checks the host name.
  const ssl: ConnectionOptions = {
    ca,
    rejectUnauthorized: true,
    ...(mode === 'verify-full' ? {} : { checkServerIdentity: () => undefined }),
  };
  return { url: parsed.toString(), ssl };
}
