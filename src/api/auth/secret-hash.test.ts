import { describe, expect, it } from 'vitest';
import { DECOY_HASH, hashSecret, verifySecret } from './secret-hash.js';

describe('secret hashes', () => {
  it('verifies the secret it hashed and nothing else; salts make two hashes differ', async () => {
    const hash = await hashSecret('correct horse battery staple');
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$[\w-]+\$[\w-]{43}$/);
    expect(hash).not.toContain('correct');
    expect(await verifySecret('correct horse battery staple', hash)).toBe(true);
    expect(await verifySecret('correct horse battery stapl', hash)).toBe(false);
    expect(await hashSecret('correct horse battery staple')).not.toBe(hash);
  });

  it('says false, without throwing or stalling, for malformed or costly stored hashes', async () => {
    const hash = await hashSecret('s');
    const [, , , , salt, key] = hash.split('$');
    for (const stored of [
      '',
      'plain',
      `bcrypt$16384$8$1$${salt}$${key}`,
      `scrypt$${2 ** 30}$8$1$${salt}$${key}`,
      `scrypt$16384$4096$1$${salt}$${key}`,
      `scrypt$1000$8$1$${salt}$${key}`,
      `scrypt$16384$8$1$${salt}$${key?.slice(1)}`,
      `scrypt$16384$8$1$${salt}`,
    ]) {
      expect(await verifySecret('s', stored), stored).toBe(false);
    }
  });

  it('matches no secret with the decoy hash', async () => {
    expect(await verifySecret('', DECOY_HASH)).toBe(false);
    expect(await verifySecret('anything', DECOY_HASH)).toBe(false);
  });
});
