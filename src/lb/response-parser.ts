// The strict HTTP/1.1 response parser of the balancer's upstream connections: Node's own llhttp
// (the parser behind node:http, in C++) with no leniency, so an answer whose framing two parsers
// could read differently (Content-Length with Transfer-Encoding, a duplicate or malformed
// Content-Length, obs-fold, a bare CR or LF, a bad chunk size) is refused, never guessed at.
// Node exposes it only through its internal `_http_common` module: this file is the one place
// that touches it.
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

/** The head of a final (non-1xx) response. */
export interface ResponseHead {
  statusCode: number;
  /** Names and values in the order received, as latin1 strings (bytes kept). */
  rawHeaders: string[];
  /** HTTP/1.1 without `Connection: close` and with a length or chunked body. */
  shouldKeepAlive: boolean;
}

export interface ResponseEvents {
  /** A final response's head; informational (1xx) answers are skipped. */
  onHead(head: ResponseHead): void;
  /** A piece of the body (de-chunked), a view of the bytes read. */
  onBody(chunk: Buffer): void;
  /** The response ended where its framing says. */
  onComplete(): void;
}

export interface ResponseParser {
  /** Parses `chunk`; an Error (code `UPSTREAM_BAD_RESPONSE`) when the bytes are no valid answer. */
  execute(chunk: Buffer): Error | undefined;
  /**
   * The connection ended: completes a body delimited by the close, else an Error when a response
   * was under way (cut mid-head or mid-body).
   */
  finish(): Error | undefined;
  /**
   * Starts a new exchange on a connection whose last answer was complete and followed by no
   * byte (any byte after a complete answer is an error of that exchange, since it begins a
   * message), so llhttp's own state needs no reset.
   */
  reset(options: { isHead: boolean }): void;
  /**
   * Reads straight from `socket`'s native handle, as Node's own server does: no Buffer and no
   * 'data' event per read (the socket still reports 'end', 'error' and 'close'). `onExecute`
   * follows each parsed read, with what `execute` would have returned.
   */
  consume(socket: Socket, onExecute: (error: Error | undefined) => void): void;
  /** Frees the native parser; the parser is unusable afterwards. */
  close(): void;
}

interface NativeParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenientFlags: number): void;
  execute(chunk: Buffer): number | Error;
  finish(): Error | undefined;
  consume(handle: unknown): void;
  unconsume(): void;
  close(): void;
  [callback: number]: unknown;
}
interface NativeParserClass {
  new (): NativeParser;
  RESPONSE: number;
  kLenientNone: number;
  kOnMessageBegin: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
  kOnExecute: number;
}

const { HTTPParser } = createRequire(import.meta.url)('node:_http_common') as {
  HTTPParser: NativeParserClass;
};
/** Header bytes an upstream may send (the same bound as the balancer's own requests). */
const MAX_HEADER_BYTES = 16 * 1024;
/** The async resource llhttp's callbacks run under; one for all. */
const RESOURCE = {};

export function badResponse(reason: string, cause?: unknown): Error {
  return Object.assign(new Error(`invalid response from the backend: ${reason}`), {
    code: 'UPSTREAM_BAD_RESPONSE',
    cause,
  });
}

export function createResponseParser(events: ResponseEvents): ResponseParser {
  const native = new HTTPParser();
  let flushed: string[] = [];
  let isInformational = false;
  let isHead = false;
  /** The final response of this exchange began (any later message is unsolicited). */
  let hasBegun = false;
  let hasEnded = false;
  let violation: Error | undefined;
  native.initialize(HTTPParser.RESPONSE, RESOURCE, MAX_HEADER_BYTES, HTTPParser.kLenientNone);

  native[HTTPParser.kOnMessageBegin] = () => {
    // A byte after the answer, even a partial second one (response queue poisoning): the
    // connection is done for. (llhttp skips blank lines between messages without a begin.)
    if (hasEnded) violation ??= badResponse('more than one response to a request');
  };
  // More header lines than the native side buffers arrive in batches before the end of the head.
  native[HTTPParser.kOnHeaders] = (headers: string[]) => {
    for (const item of headers) flushed.push(item);
  };
  // Node calls it with nine positional arguments; a rest parameter would cost an array a response.
  /* eslint-disable max-params */
  native[HTTPParser.kOnHeadersComplete] = (
    _major: number,
    _minor: number,
    headers: string[] | undefined,
    _method: unknown,
    _url: unknown,
    statusCode: number,
    _statusMessage: unknown,
    isUpgrade: boolean,
    shouldKeepAlive: boolean,
  ): number => {
    if (violation) return 0;
    if (isUpgrade) {
      // The balancer never asks for an upgrade (it drops `Upgrade`): a 101 is no answer to it.
      violation = badResponse('an unrequested protocol switch');
      return 0;
    }
    if (statusCode < 200) {
      isInformational = true;
      return 0;
    }
    hasBegun = true;
    const rawHeaders = headers ?? flushed;
    flushed = [];
    events.onHead({ statusCode, rawHeaders, shouldKeepAlive });
    // 1: no body whatever the headers say (the answer to HEAD); 204/304 llhttp knows itself.
    return isHead ? 1 : 0;
  };
  /* eslint-enable max-params */
  native[HTTPParser.kOnBody] = (chunk: Buffer) => {
    if (!violation && hasBegun && !hasEnded) events.onBody(chunk);
  };
  native[HTTPParser.kOnMessageComplete] = () => {
    if (violation) return;
    if (isInformational) {
      isInformational = false;
      return;
    }
    if (!hasBegun || hasEnded) return;
    hasEnded = true;
    events.onComplete();
  };

  const outcome = (result: unknown): Error | undefined => {
    if (result instanceof Error) {
      const { reason, code } = result as Error & { reason?: string; code?: string };
      return violation ?? badResponse(reason ?? code ?? 'unparseable', result);
    }
    return violation;
  };
  let isConsuming = false;

  return {
    execute: (chunk) => outcome(native.execute(chunk)),
    finish() {
      if (hasEnded) return undefined;
      const result = native.finish();
      if (result instanceof Error) return badResponse('the connection ended mid-response', result);
      return hasEnded ? undefined : badResponse('the connection ended before a response');
    },
    reset(options) {
      flushed = [];
      isInformational = false;
      hasBegun = false;
      hasEnded = false;
      violation = undefined;
      isHead = options.isHead;
    },
    consume(socket, onExecute) {
      native[HTTPParser.kOnExecute] = (result: unknown) => onExecute(outcome(result));
      native.consume((socket as unknown as { _handle: unknown })._handle);
      isConsuming = true;
    },
    close() {
      if (isConsuming) native.unconsume();
      native.close();
    },
  };
}
