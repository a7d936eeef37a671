// The agent's credentials file: written 0600, reused on restart without asking the master, and
// refused when others could read it or when it is a symlink.
import { chmod, mkdtemp, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../lib/index.js';
import {
  CREDENTIALS_FILE,
  CredentialsError,
  loadOrJoin,
  readCredentials,
  redisUrlFor,
  writeCredentials,
} from './credentials.js';

const credentials = {
  agentId: 'agent-1',
  redisUsername: 'pacer-agent-agent-1',
  redisPassword: 'p@ss:/word',
};
/** Nothing listens here: a join attempt would fail. */
const NO_MASTER = 'http://127.0.0.1:1';

describe('agent credentials file', () => {
  it('is written with mode 0600 and read back', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pacer-cred-'));
    await writeCredentials(dir, credentials);
    expect((await stat(path.join(dir, CREDENTIALS_FILE))).mode & 0o777).toBe(0o600);
    expect(await readCredentials(dir)).toEqual(credentials);
  });

  it('is reused on restart: the join token is not sent again', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pacer-cred-'));
    await writeCredentials(dir, credentials);
    const loaded = await loadOrJoin({
      workDir: dir,
      masterUrl: NO_MASTER,
      joinToken: 'pjt_used',
      logger: silentLogger(),
    });
    expect(loaded).toEqual(credentials);
    expect(
      await loadOrJoin({
        workDir: await mkdtemp(path.join(os.tmpdir(), 'pacer-cred-')),
        masterUrl: NO_MASTER,
        logger: silentLogger(),
      }),
    ).toBeUndefined();
  });

  it('is refused when group or others may read it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pacer-cred-'));
    await writeCredentials(dir, credentials);
    for (const mode of [0o640, 0o604, 0o620]) {
      await chmod(path.join(dir, CREDENTIALS_FILE), mode);
      await expect(readCredentials(dir)).rejects.toBeInstanceOf(CredentialsError);
    }
  });

  it('is refused when it is a symlink, even to a 0600 file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pacer-cred-'));
    const elsewhere = await mkdtemp(path.join(os.tmpdir(), 'pacer-cred-target-'));
    await writeCredentials(elsewhere, credentials);
    await symlink(path.join(elsewhere, CREDENTIALS_FILE), path.join(dir, CREDENTIALS_FILE));
    await expect(readCredentials(dir)).rejects.toThrow(/symlink/);
  });

  it('replaces a planted symlink on write instead of writing through it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pacer-cred-'));
    const target = path.join(dir, 'target');
    await writeFile(target, 'untouched');
    await symlink(target, path.join(dir, CREDENTIALS_FILE));
    await writeCredentials(dir, credentials);
    expect(await readFile(target, 'utf8')).toBe('untouched');
    expect(await readCredentials(dir)).toEqual(credentials);
  });

  it('refuses a file that does not hold credentials', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pacer-cred-'));
    await writeCredentials(dir, { ...credentials, agentId: 'x*' });
    await expect(readCredentials(dir)).rejects.toBeInstanceOf(CredentialsError);
  });

  it('puts the user and password into the Redis URL, escaped', () => {
    const url = new URL(redisUrlFor('redis://old:pw@redis:6379/2', credentials));
    expect(decodeURIComponent(url.username)).toBe(credentials.redisUsername);
    expect(decodeURIComponent(url.password)).toBe(credentials.redisPassword);
    expect(url.host).toBe('redis:6379');
    expect(url.pathname).toBe('/2');
  });
});
