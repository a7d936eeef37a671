import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSecretBox, readOrCreateSecretsKey, readSecretsKey } from './secret-box.js';

describe('createSecretBox', () => {
  const box = createSecretBox(randomBytes(32));

  it('opens what it sealed, and never seals a value the same way twice', () => {
    const a = box.seal('team-a/db', 'hunter2');
    const b = box.seal('team-a/db', 'hunter2');
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(Buffer.from(a).includes(Buffer.from('hunter2'))).toBe(false);
    expect(box.open('team-a/db', a)).toBe('hunter2');
  });

  it('refuses a value moved to another path, changed by one bit, or sealed by another key', () => {
    const sealed = box.seal('team-a/db', 'hunter2');
    expect(() => box.open('team-b/db', sealed)).toThrow();
    const flipped = Uint8Array.from(sealed);
    flipped[20] = (flipped[20] ?? 0) ^ 1;
    expect(() => box.open('team-a/db', flipped)).toThrow();
    expect(() => createSecretBox(randomBytes(32)).open('team-a/db', sealed)).toThrow();
    expect(() => box.open('team-a/db', new Uint8Array(5))).toThrow(/format/);
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => createSecretBox(randomBytes(16))).toThrow(/32 bytes/);
  });
});

describe('secrets key files', () => {
  it('reads raw and base64 keys, refuses others, and creates one with mode 0600', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pacer-key-'));
    try {
      const key = randomBytes(32);
      await writeFile(path.join(dir, 'raw'), key);
      await writeFile(path.join(dir, 'b64'), `${key.toString('base64')}\n`);
      await writeFile(path.join(dir, 'short'), randomBytes(31).toString('base64'));
      expect(Buffer.from(await readSecretsKey(path.join(dir, 'raw'))).equals(key)).toBe(true);
      expect(Buffer.from(await readSecretsKey(path.join(dir, 'b64'))).equals(key)).toBe(true);
      await expect(readSecretsKey(path.join(dir, 'short'))).rejects.toThrow(/32 raw bytes/);
      const made = path.join(dir, 'made');
      const first = await readOrCreateSecretsKey(made);
      expect((await stat(made)).mode & 0o777).toBe(0o600);
      expect(Buffer.from(await readOrCreateSecretsKey(made)).equals(Buffer.from(first))).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
