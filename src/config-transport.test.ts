// The transport, secrets and limits blocks of the config: TLS files go in pairs, HTTPS changes
// the public URL's scheme, caps and quota come from the environment.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadMasterConfig } from './config.js';

const base = { DATABASE_URL: 'postgres://x/y', REDIS_URL: 'redis://x' };
const flags = { insecure: true };

describe('transport and limits config', () => {
  it('serves HTTPS with a cert and key together, and names the https URL', () => {
    const config = loadMasterConfig(base, { ...flags, 'tls-cert': 'c.pem', 'tls-key': 'k.pem' });
    expect(config.transport.tls).toEqual({ certFile: 'c.pem', keyFile: 'k.pem' });
    expect(config.publicUrl).toMatch(/^https:\/\//);
    expect(() => loadMasterConfig(base, { ...flags, 'tls-cert': 'c.pem' })).toThrow(ConfigError);
  });

  it('reads the CA files and the secrets key file', () => {
    const config = loadMasterConfig(
      { ...base, PACER_SECRETS_KEY_FILE: '/k', PACER_REDIS_CA_FILE: '/r.pem' },
      { ...flags, ca: '/ca.pem' },
    );
    expect(config.transport).toEqual({
      caFile: '/ca.pem',
      redisCaFile: '/r.pem',
      secretsKeyFile: '/k',
    });
  });

  it('reads stream caps and the artifact quota, and refuses non-numbers', () => {
    const config = loadMasterConfig(
      {
        ...base,
        PACER_MAX_EVENT_STREAMS: '50',
        PACER_MAX_EVENT_STREAMS_PER_PRINCIPAL: '5',
        PACER_MAX_LOG_FOLLOWS: '8',
        PACER_ARTIFACT_QUOTA_BYTES: '1048576',
      },
      flags,
    );
    expect(config.limits).toEqual({
      eventStreams: { total: 50, perPrincipal: 5 },
      logFollows: { total: 8, perPrincipal: 8 },
      artifactQuotaBytes: 1048576,
    });
    expect(() => loadMasterConfig({ ...base, PACER_MAX_LOG_FOLLOWS: 'lots' }, flags)).toThrow(
      ConfigError,
    );
  });
});
