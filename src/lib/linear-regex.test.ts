import { describe, expect, it } from 'vitest';
import { compileFullMatch } from './linear-regex.js';

describe('compileFullMatch', () => {
  it('matches whole strings only, as Java String.matches', () => {
    const compiled = compileFullMatch('rack-[0-9]+');
    expect(compiled.ok && compiled.value.test('rack-12')).toBe(true);
    expect(compiled.ok && compiled.value.test('xrack-12')).toBe(false);
    expect(compiled.ok && compiled.value.test('rack-12x')).toBe(false);
  });

  it('answers a catastrophic-backtracking pattern on a long input (linear engine)', () => {
    const compiled = compileFullMatch('(a+)+$');
    expect(compiled.ok).toBe(true);
    if (!compiled.ok) return;
    expect(compiled.value.test(`${'a'.repeat(50_000)}!`)).toBe(false);
    expect(compiled.value.test('a'.repeat(50_000))).toBe(true);
  });

  it('refuses what RE2 does not support: backreferences and lookarounds', () => {
    expect(compileFullMatch('(a)\\1').ok).toBe(false);
    expect(compileFullMatch('a(?=b)').ok).toBe(false);
    expect(compileFullMatch('a(?!b)').ok).toBe(false);
    expect(compileFullMatch('(?<=a)b').ok).toBe(false);
  });
});
