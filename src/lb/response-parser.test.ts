import { describe, expect, it } from 'vitest';
import { createResponseParser, type ResponseHead } from './response-parser.js';

/** Feeds `bytes` (latin1) to a new parser in one piece; what it reported, and its error. */
function parse(bytes: string, options: { isHead?: boolean; finish?: boolean } = {}) {
  const heads: ResponseHead[] = [];
  const body: Buffer[] = [];
  let completes = 0;
  const parser = createResponseParser({
    onHead: (head) => heads.push(head),
    onBody: (chunk) => body.push(Buffer.from(chunk)),
    onComplete: () => (completes += 1),
  });
  parser.reset({ isHead: options.isHead ?? false });
  let error = parser.execute(Buffer.from(bytes, 'latin1'));
  if (!error && options.finish) error = parser.finish();
  parser.close();
  return {
    heads,
    body: Buffer.concat(body).toString('latin1'),
    completes,
    error: error?.message,
    code: (error as { code?: string } | undefined)?.code,
  };
}

const OK_HEAD = 'HTTP/1.1 200 OK\r\n';

describe('response parser', () => {
  it('reads a response with a length, its raw headers in order, and says it may be kept alive', () => {
    const result = parse(
      `${OK_HEAD}Set-Cookie: a=1\r\nset-cookie: b=2\r\nContent-Length: 2\r\n\r\nok`,
    );
    expect(result.heads).toEqual([
      {
        statusCode: 200,
        rawHeaders: ['Set-Cookie', 'a=1', 'set-cookie', 'b=2', 'Content-Length', '2'],
        shouldKeepAlive: true,
      },
    ]);
    expect(result).toMatchObject({ body: 'ok', completes: 1, error: undefined });
  });

  it('de-chunks a chunked body and reads a close-delimited one to the end', () => {
    expect(
      parse(`${OK_HEAD}Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n3\r\n!!!\r\n0\r\n\r\n`),
    ).toMatchObject({ body: 'ok!!!', completes: 1, error: undefined });
    const closeDelimited = parse(`${OK_HEAD}Connection: close\r\n\r\nall of it`, { finish: true });
    expect(closeDelimited).toMatchObject({ body: 'all of it', completes: 1, error: undefined });
    expect(closeDelimited.heads[0]?.shouldKeepAlive).toBe(false);
  });

  it('skips informational answers and reads no body after HEAD', () => {
    const early = parse(
      `HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n${OK_HEAD}Content-Length: 0\r\n\r\n`,
    );
    expect(early.heads.map((h) => h.statusCode)).toEqual([200]);
    expect(early.completes).toBe(1);
    expect(parse(`${OK_HEAD}Content-Length: 5\r\n\r\n`, { isHead: true })).toMatchObject({
      completes: 1,
      error: undefined,
    });
  });

  it.each([
    [
      'Content-Length with Transfer-Encoding',
      `${OK_HEAD}Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n`,
    ],
    [
      'Transfer-Encoding with Content-Length',
      `${OK_HEAD}Transfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\nok\r\n0\r\n\r\n`,
    ],
    ['a duplicate Content-Length', `${OK_HEAD}Content-Length: 2\r\nContent-Length: 2\r\n\r\nok`],
    ['a Content-Length list', `${OK_HEAD}Content-Length: 2, 2\r\n\r\nok`],
    ['a signed Content-Length', `${OK_HEAD}Content-Length: +2\r\n\r\nok`],
    ['a Content-Length over 2^64', `${OK_HEAD}Content-Length: 18446744073709551616\r\n\r\nok`],
    ['obs-fold', `${OK_HEAD}X-A: a\r\n b\r\nContent-Length: 2\r\n\r\nok`],
    ['a bare LF', 'HTTP/1.1 200 OK\nContent-Length: 2\n\nok'],
    ['a bare LF in the headers', `${OK_HEAD}X-A: 1\nContent-Length: 2\r\n\r\nok`],
    ['a bare CR', `${OK_HEAD}X-A: 1\rContent-Length: 2\r\n\r\nok`],
    ['a space before the colon', `${OK_HEAD}Content-Length : 2\r\n\r\nok`],
    ['a control byte in a value', `${OK_HEAD}X-A: a\x01b\r\nContent-Length: 2\r\n\r\nok`],
    ['a NUL in a value', `${OK_HEAD}X-A: a\x00b\r\nContent-Length: 2\r\n\r\nok`],
    [
      'a chunk size that is no number',
      `${OK_HEAD}Transfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n`,
    ],
    ['a negative chunk size', `${OK_HEAD}Transfer-Encoding: chunked\r\n\r\n-2\r\nok\r\n0\r\n\r\n`],
    [
      'a chunk size over 2^64',
      `${OK_HEAD}Transfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\nok\r\n0\r\n\r\n`,
    ],
    [
      'a chunk longer than its size',
      `${OK_HEAD}Transfer-Encoding: chunked\r\n\r\n2\r\nokX0\r\n\r\n`,
    ],
    ['headers over 16 KiB', `${OK_HEAD}X-A: ${'a'.repeat(20_000)}\r\n\r\n`],
    ['a four-digit status', 'HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n'],
    [
      'a protocol switch nobody asked for',
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n',
    ],
    [
      'a second response to one request',
      `${OK_HEAD}Content-Length: 2\r\n\r\nok${OK_HEAD}Content-Length: 4\r\n\r\nevil`,
    ],
  ])('refuses %s', (_name, bytes) => {
    const result = parse(bytes);
    expect(result.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(result.body).not.toContain('evil');
  });

  it('reads past 2^32 in a Content-Length and calls a response cut there incomplete', () => {
    const result = parse(`${OK_HEAD}Content-Length: 4294967296\r\n\r\nok`, { finish: true });
    expect(result.body).toBe('ok');
    expect(result.completes).toBe(0);
    expect(result.code).toBe('UPSTREAM_BAD_RESPONSE');
  });

  it('reads headers past the batch the native side holds (40 of them)', () => {
    const many = Array.from({ length: 40 }, (_, i) => `X-${i}: ${i}\r\n`).join('');
    const result = parse(`${OK_HEAD}${many}Content-Length: 0\r\n\r\n`);
    expect(result.heads[0]?.rawHeaders).toHaveLength(82);
    expect(result.heads[0]?.rawHeaders.slice(-4)).toEqual(['X-39', '39', 'Content-Length', '0']);
  });

  it('refuses even the first bytes of a second response, and blank lines are no response', () => {
    expect(parse(`${OK_HEAD}Content-Length: 0\r\n\r\nH`).code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(parse(`${OK_HEAD}Content-Length: 0\r\n\r\n\r\n`).code).toBeUndefined();
  });

  it('reads the next exchange on the same parser after a complete answer', () => {
    const heads: number[] = [];
    const parser = createResponseParser({
      onHead: (head) => heads.push(head.statusCode),
      onBody: () => undefined,
      onComplete: () => undefined,
    });
    parser.reset({ isHead: false });
    expect(parser.execute(Buffer.from(`${OK_HEAD}Content-Length: 0\r\n\r\n`))).toBeUndefined();
    parser.reset({ isHead: false });
    expect(parser.execute(Buffer.from('HTTP/1.1 204 No Content\r\n\r\n'))).toBeUndefined();
    parser.close();
    expect(heads).toEqual([200, 204]);
  });
});
