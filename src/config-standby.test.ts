// The warm standby's refresh interval (PACER_STANDBY_REFRESH_MS): 1 s by default, 0 turns the
// warm copy off, anything but plain digits within 50 ms..1 h is refused.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadMasterConfig } from './config.js';

const base = { DATABASE_URL: 'postgres://x/y', REDIS_URL: 'redis://x' };
const flags = { insecure: true };
const refreshOf = (value?: string) =>
  loadMasterConfig({ ...base, PACER_STANDBY_REFRESH_MS: value }, flags).standbyRefreshMs;

describe('standby refresh config', () => {
  it('refreshes every second by default, as asked, or never with 0', () => {
    expect(refreshOf(undefined)).toBe(1_000);
    expect(refreshOf('')).toBe(1_000);
    expect(refreshOf('0')).toBe(0);
    expect(refreshOf('50')).toBe(50);
    expect(refreshOf('3600000')).toBe(3_600_000);
  });

  it('refuses what is not digits, too fast or past an hour (timer overflow included)', () => {
    for (const bad of [
      '1',
      '49',
      '3600001',
      '2147483648',
      '1e3',
      '0x10',
      '-1',
      '1.5',
      ' 100',
      '1s',
      'NaN',
    ])
      expect(() => refreshOf(bad), bad).toThrow(ConfigError);
  });
});
