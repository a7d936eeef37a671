import { describe, expect, it } from 'vitest';
import type { TaskLaunchSpec } from '../bus/index.js';
import { ConfigError, loadAgentConfig } from '../config.js';
import { checkCidrs } from './fetch-policy.js';
import { agentLimitsOf } from './main.js';
import { defaultAgentLimits, resolveLimits } from './task-limits.js';

const spec = (labels: Record<string, string>, memMiB = 16): TaskLaunchSpec => ({
  kind: 'wasm',
  appId: '/a',
  appVersion: 'v',
  cmd: 'a.wasm',
  env: {},
  labels,
  fetch: [],
  resources: { cpus: 0.1, memMiB, diskMiB: 0 },
  ports: [],
});

describe('resolveLimits', () => {
  it('applies the defaults without labels and a label up to the maximum', () => {
    expect(resolveLimits(spec({}), defaultAgentLimits)).toMatchObject({
      ok: true,
      limits: { fuel: defaultAgentLimits.fuel, timeoutMs: 0 },
    });
    const atMax = spec({
      PACER_WASM_FUEL: String(defaultAgentLimits.fuelMax),
      PACER_WASM_TIMEOUT_SECONDS: String(defaultAgentLimits.timeoutSecondsMax),
    });
    expect(resolveLimits(atMax, defaultAgentLimits)).toMatchObject({
      ok: true,
      limits: { fuel: defaultAgentLimits.fuelMax, timeoutMs: 2_147_483_000 },
    });
  });

  it('refuses, never clamps, values over the maximum and values that would mean unlimited', () => {
    const refused: [Record<string, string>, string][] = [
      [{ PACER_WASM_FUEL: '1000000000001' }, 'OUT_OF_FUEL'],
      [{ PACER_WASM_FUEL: '99999999999999999999999999' }, 'OUT_OF_FUEL'],
      [{ PACER_WASM_FUEL: '0' }, 'OUT_OF_FUEL'],
      [{ PACER_WASM_FUEL: '-1' }, 'OUT_OF_FUEL'],
      [{ PACER_WASM_TIMEOUT_SECONDS: '0' }, 'TIMEOUT'],
      [{ PACER_WASM_TIMEOUT_SECONDS: '2147484' }, 'TIMEOUT'],
      [{ PACER_WASM_TIMEOUT_SECONDS: '1e3' }, 'TIMEOUT'],
      [{ PACER_WASM_TIMEOUT_SECONDS: 'Infinity' }, 'TIMEOUT'],
    ];
    for (const [labels, reason] of refused) {
      expect(resolveLimits(spec(labels), defaultAgentLimits), JSON.stringify(labels)).toMatchObject(
        { ok: false, reason },
      );
    }
    expect(resolveLimits(spec({}, 4097), defaultAgentLimits)).toMatchObject({
      ok: false,
      reason: 'MEMORY_LIMIT',
    });
  });
});

describe('agent flags for limits and fetching', () => {
  const env = { REDIS_URL: 'redis://x', PACER_MASTER_URL: 'http://m:8080' };

  it('refuses to start with a default over its maximum', () => {
    const config = loadAgentConfig(env, { 'wasm-fuel': '200', 'wasm-fuel-max': '100' });
    expect(() => agentLimitsOf(config)).toThrow(ConfigError);
    expect(() =>
      agentLimitsOf(
        loadAgentConfig(env, { 'wasm-timeout-seconds': '61', 'wasm-timeout-seconds-max': '60' }),
      ),
    ).toThrow(/over --wasm-timeout-seconds-max/);
    expect(() => loadAgentConfig(env, { 'wasm-fuel-max': '0' })).toThrow(ConfigError);
  });

  it('takes --allow-fetch-from repeated or comma-separated', () => {
    const flags = { 'allow-fetch-from': ['10.1.0.0/16', '192.168.5.0/24,fd00::/8'] } as never;
    expect(loadAgentConfig(env, flags).allowFetchFrom).toEqual([
      '10.1.0.0/16',
      '192.168.5.0/24',
      'fd00::/8',
    ]);
    for (const bad of ['10.0.0.0/33', 'example.com', '10.0.0.0/x', '::/129', '10.0.0.0/-1'])
      expect(checkCidrs([bad]), bad).toMatch(/--allow-fetch-from: .* is not an address or CIDR/);
    expect(checkCidrs(['10.0.0.0/8', '::1', 'fd00::/8'])).toBeUndefined();
  });
});
