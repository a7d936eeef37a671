import { describe, expect, it } from 'vitest';
import { parseLabelSelector } from './label-selector.js';

describe('parseLabelSelector', () => {
  it('parses every term kind', () => {
    const labels = { env: 'prod', tier: 'web', 'a,b': 'x y' };
    expect(parseLabelSelector('env')(labels)).toBe(true);
    expect(parseLabelSelector('env==prod, tier!=db')(labels)).toBe(true);
    expect(parseLabelSelector('tier in (web,api)')(labels)).toBe(true);
    expect(parseLabelSelector('tier notin (web)')(labels)).toBe(false);
    expect(parseLabelSelector('a\\,b==x y')(labels)).toBe(true);
  });

  it('parses a term of a hundred thousand spaces without backtracking', () => {
    // `(.+?)\s+(in|notin)` backtracks quadratically on this; RE2 answers in one pass.
    const hostile = `a${' '.repeat(100_000)}b`;
    expect(() => parseLabelSelector(hostile)).toThrow(/Invalid label selector/);
    expect(parseLabelSelector(`env${' '.repeat(100_000)}==prod`)({ env: 'prod' })).toBe(true);
  });

  it("matches a label's own value only, never Object.prototype's", () => {
    const labels = JSON.parse('{"env":"prod"}') as Record<string, string>;
    for (const key of ['toString', '__proto__', 'constructor', 'hasOwnProperty']) {
      expect(parseLabelSelector(key)(labels)).toBe(false);
      expect(parseLabelSelector(`${key}!=x`)(labels)).toBe(true);
      expect(parseLabelSelector(`${key} notin (x)`)(labels)).toBe(true);
    }
    const own = JSON.parse('{"__proto__":"p","toString":"t"}') as Record<string, string>;
    expect(parseLabelSelector('__proto__==p, toString==t')(own)).toBe(true);
  });
});
