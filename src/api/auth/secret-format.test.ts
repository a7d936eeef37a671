import { describe, expect, it } from 'vitest';
import { PRINCIPAL_NAME, nameInSecret, newSecret } from './secret-format.js';

describe('secrets that name their principal', () => {
  it('finds the name in a generated secret, also names with _ . and -', () => {
    for (const name of ['team-a', 'a', 'with_underscore_', 'x.y-z_1', 'A'.repeat(63)]) {
      const secret = newSecret(name);
      expect(nameInSecret(secret)).toBe(name);
    }
  });

  it('makes a different secret every time', () => {
    expect(newSecret('a')).not.toBe(newSecret('a'));
  });

  it('finds no name in secrets of another shape (the bootstrap secret is tried then)', () => {
    const random = 'A'.repeat(43);
    for (const secret of [
      'operator-chosen-secret',
      `pacer_${random}`,
      `pacer__${random}`,
      `pacer_../x_${random}`,
      `pacer_a-${random}`,
      `pacer_${'a'.repeat(64)}_${random}`,
    ]) {
      expect(nameInSecret(secret), secret).toBeUndefined();
    }
  });

  it('accepts names of 1 to 63 safe characters starting with a letter or digit', () => {
    expect(PRINCIPAL_NAME.test('-a')).toBe(false);
    expect(PRINCIPAL_NAME.test('a/b')).toBe(false);
    expect(PRINCIPAL_NAME.test('')).toBe(false);
    expect(PRINCIPAL_NAME.test('a'.repeat(64))).toBe(false);
  });
});
