import { describe, expect, it } from 'vitest';
import {
  clientAddress,
  downstreamRawHeaders,
  upstreamRequestHeaders,
} from './forwarded-headers.js';

describe('forwarded headers', () => {
  it("drops hop-by-hop headers and those Connection names, and replaces a client's X-Forwarded-Proto/-Host", () => {
    const out = upstreamRequestHeaders(
      {
        host: 'web.example',
        connection: 'keep-alive, x-secret-hop',
        'x-secret-hop': '1',
        'keep-alive': 'timeout=5',
        'transfer-encoding': 'chunked',
        te: 'trailers',
        upgrade: 'websocket',
        'x-forwarded-for': '10.0.0.1',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'bank.example',
        accept: 'text/html',
      },
      { address: clientAddress('::ffff:192.0.2.7'), host: 'web.example', port: 80 },
    );
    expect({ ...out }).toEqual({
      host: 'web.example',
      accept: 'text/html',
      'x-forwarded-for': '10.0.0.1, 192.0.2.7',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'web.example',
      'x-forwarded-port': '80',
    });
  });

  it("keeps a response's own headers in order, not its hop-by-hop ones nor those its Connection names", () => {
    const raw = [
      ['Set-Cookie', 'a=1'],
      ['Connection', 'close, X-Secret-Hop'],
      ['X-Secret-Hop', '1'],
      ['Transfer-Encoding', 'chunked'],
      ['Content-Type', 'text/plain'],
      ['set-cookie', 'b=2'],
      ['Connection', 'x-other-hop'],
      ['X-Other-Hop', '2'],
      ['X-Bytes', '\u00e9'],
    ].flatMap(([name, value]) => [
      Buffer.from(name as string),
      Buffer.from(value as string, 'latin1'),
    ]);
    expect(downstreamRawHeaders(raw)).toEqual([
      'Set-Cookie',
      'a=1',
      'Content-Type',
      'text/plain',
      'set-cookie',
      'b=2',
      'X-Bytes',
      '\u00e9',
    ]);
  });
});
