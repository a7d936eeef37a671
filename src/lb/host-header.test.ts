import { describe, expect, it } from 'vitest';
import { hostOf } from './host-header.js';

describe('hostOf', () => {
  it('lowers the case and drops the port and a trailing dot', () => {
    expect(hostOf('Web.Example.COM:8080')).toBe('web.example.com');
    expect(hostOf('web.example.')).toBe('web.example');
    expect(hostOf('[::1]:80')).toBe('[::1]');
  });

  it('matches nothing for hostile or odd values', () => {
    for (const value of [
      undefined,
      '',
      '__proto__',
      'toString',
      'a'.repeat(300),
      `${'a.'.repeat(200)}com`,
      'web.example:99999999',
      'web.example:abc',
      'web example',
      'web.example/evil',
      'user@web.example',
      '[::1',
      '[::1]junk',
      'web.example\r\nx-injected: 1',
    ]) {
      const host = hostOf(value);
      // `__proto__` is a valid label syntactically; it must simply be a plain string.
      if (host !== undefined) expect(host).toMatch(/^[a-z0-9_.-]+$/);
      else expect(host).toBeUndefined();
    }
    expect(hostOf('web example')).toBeUndefined();
    expect(hostOf('a'.repeat(300))).toBeUndefined();
    expect(hostOf('web.example\r\nx: 1')).toBeUndefined();
  });
});
