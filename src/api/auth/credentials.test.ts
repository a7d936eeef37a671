import { describe, expect, it } from 'vitest';
import { MAX_AUTHORIZATION_LENGTH, parseAuthorization } from './credentials.js';

const basic = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;

describe('parseAuthorization', () => {
  it('reads Basic as name and secret, splitting at the first colon', () => {
    expect(parseAuthorization(basic('team-a:s3:cr:et'))).toEqual({
      name: 'team-a',
      secret: 's3:cr:et',
    });
    expect(parseAuthorization(`basic ${Buffer.from('a:b').toString('base64')}`)).toEqual({
      name: 'a',
      secret: 'b',
    });
  });

  it('reads Bearer and DC/OS token= as a secret alone', () => {
    expect(parseAuthorization('Bearer pacer_x_abc')).toEqual({ secret: 'pacer_x_abc' });
    expect(parseAuthorization('token=pacer_x_abc')).toEqual({ secret: 'pacer_x_abc' });
  });

  it('refuses what proves nothing: absent, empty, unknown scheme, no colon, empty parts', () => {
    for (const header of [
      undefined,
      '',
      'Bearer',
      'Bearer ',
      'token=',
      'Digest abc',
      'Basic',
      'Basic !!!notbase64',
      basic('nocolon'),
      basic(':secret'),
      basic('name:'),
    ]) {
      expect(parseAuthorization(header), String(header)).toBeUndefined();
    }
  });

  it('refuses a header longer than the limit before decoding it', () => {
    expect(parseAuthorization(`Bearer ${'x'.repeat(MAX_AUTHORIZATION_LENGTH)}`)).toBeUndefined();
  });
});
