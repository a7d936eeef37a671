// Fault-injection and footprint settings: a master's clock offset (signed, within a day, digits
// only) and the agent's binaryen prewarm (off unless exactly "1").
import { describe, expect, it } from 'vitest';
import { ConfigError, loadAgentConfig, loadMasterConfig } from './config.js';

const base = { DATABASE_URL: 'postgres://x/y', REDIS_URL: 'redis://x' };
const flags = { insecure: true };

describe('clock offset and prewarm config', () => {
  it('reads a signed clock offset, 0 when absent', () => {
    expect(loadMasterConfig(base, flags).clockOffsetMs).toBe(0);
    expect(loadMasterConfig({ ...base, PACER_CLOCK_OFFSET_MS: '5000' }, flags).clockOffsetMs).toBe(
      5000,
    );
    expect(loadMasterConfig({ ...base, PACER_CLOCK_OFFSET_MS: '-5000' }, flags).clockOffsetMs).toBe(
      -5000,
    );
  });

  it('refuses offsets that are not whole numbers within a day', () => {
    for (const bad of [
      '1e9',
      '0x10',
      '5s',
      ' 5',
      '1.5',
      '86400001',
      '-999999999',
      'NaN',
      '__proto__',
    ])
      expect(() => loadMasterConfig({ ...base, PACER_CLOCK_OFFSET_MS: bad }, flags), bad).toThrow(
        ConfigError,
      );
  });

  it('prewarms binaryen only when asked with "1"', () => {
    const agentEnv = { REDIS_URL: 'redis://x', PACER_MASTER_URL: 'http://m' };
    expect(loadAgentConfig(agentEnv, {}).wasmPrewarm).toBe(false);
    expect(loadAgentConfig({ ...agentEnv, PACER_WASM_PREWARM: '1' }, {}).wasmPrewarm).toBe(true);
    expect(loadAgentConfig({ ...agentEnv, PACER_WASM_PREWARM: 'true' }, {}).wasmPrewarm).toBe(
      false,
    );
  });
});
