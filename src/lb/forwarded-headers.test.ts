import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { clientAddress, downstreamRawHeaders, upstreamRequest } from './forwarded-headers.js';

/** A request as Node's server hands it over (method, target, raw header list). */
function incoming(method: string, url: string, rawHeaders: string[]): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  Object.assign(req, { method, url, rawHeaders });
  return req;
}

describe('forwarded headers', () => {
  it("drops hop-by-hop headers and those Connection names, and replaces a client's X-Forwarded-Proto/-Host", () => {
    const request = upstreamRequest(
      incoming('GET', '/a?b=1', [
        'Host',
        'web.example',
        'Connection',
        'keep-alive, X-Secret-Hop',
        'X-Secret-Hop',
        '1',
        'Keep-Alive',
        'timeout=5',
        'TE',
        'trailers',
        'Upgrade',
        'websocket',
        'X-Forwarded-For',
        '10.0.0.1',
        'x-forwarded-for',
        '10.0.0.2',
        'X-Forwarded-Proto',
        'https',
        'X-Forwarded-Host',
        'bank.example',
        'Accept',
        'text/html',
        'Host',
        'bank.example',
      ]),
      { address: clientAddress('::ffff:192.0.2.7'), port: 80 },
    );
    expect(request.head).toBe(
      'GET /a?b=1 HTTP/1.1\r\n' +
        'Host: web.example\r\n' +
        'Accept: text/html\r\n' +
        'x-forwarded-for: 10.0.0.1, 10.0.0.2, 192.0.2.7\r\n' +
        'x-forwarded-proto: http\r\n' +
        'x-forwarded-host: web.example\r\n' +
        'x-forwarded-port: 80\r\n\r\n',
    );
    expect(request.body).toBeNull();
    expect(request.isHead).toBe(false);
  });

  it('keeps a Content-Length body as it is and chunks a chunked one again', () => {
    const sized = incoming('POST', '/', ['Host', 'a', 'Content-Length', '5']);
    const withLength = upstreamRequest(sized, { address: '192.0.2.7', port: 80 });
    expect(withLength.head).toContain('\r\nContent-Length: 5\r\n');
    expect(withLength.body).toBe(sized);
    expect(withLength.isChunked).toBe(false);
    const chunked = upstreamRequest(
      incoming('PUT', '/', ['Host', 'a', 'Transfer-Encoding', 'chunked']),
      { address: '192.0.2.7', port: 80 },
    );
    expect(chunked.head).not.toContain('Transfer-Encoding: chunked');
    expect(chunked.head).toContain('\r\ntransfer-encoding: chunked\r\n');
    expect(chunked.isChunked).toBe(true);
    const empty = upstreamRequest(incoming('POST', '/', ['Host', 'a', 'Content-Length', '0']), {
      address: '192.0.2.7',
      port: 80,
    });
    expect(empty.body).toBeNull();
    expect(
      upstreamRequest(incoming('HEAD', '/', ['Host', 'a']), { address: 'x', port: 1 }).isHead,
    ).toBe(true);
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
    ].flat();
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
