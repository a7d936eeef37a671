// The agent's status outbox bound (`--outbox-max-mib`, PACER_OUTBOX_MAX_MIB): 8 MiB by default,
// the flag before the environment, and anything but plain digits from 1 MiB to 1 TiB refused.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadAgentConfig } from './config.js';

const env = { REDIS_URL: 'redis://x', PACER_MASTER_URL: 'http://m' };

describe('outbox bound config', () => {
  it('keeps 8 MiB by default, else what the flag or the environment says (the flag first)', () => {
    expect(loadAgentConfig(env, {}).outboxMaxMiB).toBe(8);
    expect(loadAgentConfig({ ...env, PACER_OUTBOX_MAX_MIB: '64' }, {}).outboxMaxMiB).toBe(64);
    expect(loadAgentConfig(env, { 'outbox-max-mib': '1' }).outboxMaxMiB).toBe(1);
    expect(
      loadAgentConfig({ ...env, PACER_OUTBOX_MAX_MIB: '64' }, { 'outbox-max-mib': '2' })
        .outboxMaxMiB,
    ).toBe(2);
    expect(loadAgentConfig(env, { 'outbox-max-mib': '1048576' }).outboxMaxMiB).toBe(1_048_576);
  });

  it('refuses a bound of nothing, past 1 TiB, or not in plain digits', () => {
    for (const bad of ['0', '1048577', '99999999', '-1', '1.5', '1e3', '0x10', ' 8', '8MiB', 'NaN'])
      expect(() => loadAgentConfig(env, { 'outbox-max-mib': bad }), bad).toThrow(ConfigError);
    expect(() => loadAgentConfig({ ...env, PACER_OUTBOX_MAX_MIB: 'Infinity' }, {})).toThrow(
      ConfigError,
    );
  });
});
