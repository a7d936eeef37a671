// A throwaway certificate authority made with `openssl` for one test run: a CA and a server
// certificate for 127.0.0.1 and localhost signed by it, as PEM files in a temporary directory.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ThrowawayCa {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  /** Another CA's certificate: trusting only it must fail verification. */
  otherCaFile: string;
  remove(): Promise<void>;
}

async function newCa(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '1',
    '-subj',
    `/CN=${name}`,
  ]);
  return { cert, key };
}

/** Makes the CA and a server certificate (SAN IP:127.0.0.1, DNS:localhost). */
export async function createThrowawayCa(): Promise<ThrowawayCa> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pacer-ca-'));
  const ca = await newCa(dir, 'test-ca');
  const other = await newCa(dir, 'other-ca');
  const keyFile = path.join(dir, 'server.key');
  const csr = path.join(dir, 'server.csr');
  const certFile = path.join(dir, 'server.crt');
  const ext = path.join(dir, 'san.cnf');
  await writeFile(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  await run('openssl', [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    csr,
    '-subj',
    '/CN=localhost',
  ]);
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-out',
    certFile,
    '-days',
    '1',
    '-extfile',
    ext,
  ]);
  return {
    dir,
    caFile: ca.cert,
    certFile,
    keyFile,
    otherCaFile: other.cert,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
