// libpq's sslrootcert in a DATABASE_URL: read into postgres.js's TLS options, out of the URL.
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { postgresConnection } from './postgres-tls.js';

describe('postgresConnection', async () => {
  const ca = path.join(await mkdtemp(path.join(os.tmpdir(), 'pacer-pgtls-')), 'ca.crt');
  await writeFile(ca, 'PEM');

  it('leaves a URL without sslrootcert (or with postgres.js\'s own "system") as it is', () => {
    for (const url of [
      'postgres://u@h/db',
      'postgres://u@h/db?sslmode=verify-full&sslrootcert=system',
    ]) {
      expect(postgresConnection(url)).toEqual({ url });
    }
  });

  it('verifies the chain and the host name for verify-full, the chain only for verify-ca and require', () => {
    const full = postgresConnection(
      `postgres://u@h:5/db?sslmode=verify-full&sslrootcert=${ca}&application_name=x`,
    );
    expect(full.url).toBe('postgres://u@h:5/db?application_name=x');
    expect(full.ssl).toEqual({ ca: 'PEM', rejectUnauthorized: true });
    for (const mode of ['verify-ca', 'require']) {
      const chainOnly = postgresConnection(`postgres://u@h/db?sslmode=${mode}&sslrootcert=${ca}`);
      expect(chainOnly.ssl).toMatchObject({ ca: 'PEM', rejectUnauthorized: true });
      expect(chainOnly.ssl?.checkServerIdentity?.('h', {} as never)).toBeUndefined();
    }
  });

  it('refuses a root certificate with a mode that would not use it, and names a missing file', () => {
    expect(() => postgresConnection(`postgres://u@h/db?sslmode=prefer&sslrootcert=${ca}`)).toThrow(
      'sslrootcert needs sslmode=verify-full, verify-ca or require',
    );
    expect(() => postgresConnection('postgres://u@h/db?sslrootcert=/no/such.crt')).toThrow(
      'DATABASE_URL: sslrootcert /no/such.crt: ENOENT',
    );
  });
});
