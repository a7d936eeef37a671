// One keep-alive connection to a backend over a plain net.Socket: it writes an exchange's request
// (head and body, framed by the balancer itself) and hands the parsed answer to the exchange,
// one exchange at a time. Written for the balancer's hot path instead of undici's client, whose
// request objects, header checks and per-request bookkeeping were a large part of the balancer's
// CPU per request (bench:lb). A connection is reused only after a complete answer that allows it,
// with the request body sent in full; any doubt (a parse error, an unsolicited byte, a timeout,
// an abort) destroys it.
import net from 'node:net';
import type { Readable } from 'node:stream';
import { createResponseParser, type ResponseHead, type ResponseParser } from './response-parser.js';

/** Why an exchange failed; the first three mean nothing reached the backend. */
export const UpstreamError = {
  connectFailed: 'UPSTREAM_CONNECT_FAILED',
  connectTimeout: 'UPSTREAM_CONNECT_TIMEOUT',
  poolClosed: 'UPSTREAM_POOL_CLOSED',
  /** The connection ended before the response head: the backend may have acted on it. */
  closedEarly: 'UPSTREAM_CLOSED_EARLY',
  closedMidBody: 'UPSTREAM_CLOSED_MID_BODY',
  headersTimeout: 'UPSTREAM_HEADERS_TIMEOUT',
  bodyTimeout: 'UPSTREAM_BODY_TIMEOUT',
  badResponse: 'UPSTREAM_BAD_RESPONSE',
  requestBodyFailed: 'UPSTREAM_REQUEST_BODY_FAILED',
} as const;
export type UpstreamErrorCode = (typeof UpstreamError)[keyof typeof UpstreamError];

export function upstreamError(code: UpstreamErrorCode, cause?: unknown): Error {
  return Object.assign(new Error(`${code}${cause instanceof Error ? `: ${cause.message}` : ''}`), {
    code,
    cause,
  });
}

export interface UpstreamRequest {
  /** Request line and headers up to and including the empty line, written as latin1. */
  head: string;
  /** The body, streamed after the head (its length is in `head`, or it is chunked). */
  body: Readable | null;
  /** Chunk-encode `body` (the head says `Transfer-Encoding: chunked`). */
  isChunked: boolean;
  /** A HEAD request: the answer has no body whatever its headers say. */
  isHead: boolean;
}

/** What an exchange can do to its connection once started. */
export interface ExchangeControl {
  /** Destroys the connection (no event follows). Idempotent. */
  abort(): void;
  /** Reads again after `onBody` returned false. */
  resume(): void;
}

/** One request and its answer; exactly one of `onComplete` and `onError` ends it. */
export interface Exchange {
  request: UpstreamRequest;
  /** Called first, synchronously from dispatch or when a connection frees up. */
  onStart(control: ExchangeControl): void;
  onHead(head: ResponseHead): void;
  /** A body piece; false pauses reading until `control.resume()`. */
  onBody(chunk: Buffer): boolean;
  /** A read was parsed and the answer goes on: whatever the exchange holds back must go out. */
  onReadEnd(): void;
  onComplete(): void;
  onError(error: Error): void;
}

export interface ConnectionOptions {
  host: string;
  port: number;
  connectTimeoutMs: number;
  /** Longest silence before the response head (then `headersTimeout`). */
  headersTimeoutMs: number;
  /** Longest silence within a response body (then `bodyTimeout`). */
  bodyTimeoutMs: number;
  /** An idle connection older than this is closed by `sweep`. */
  keepAliveTimeoutMs: number;
  /** The connection is free for another exchange. */
  onIdle(connection: UpstreamConnection): void;
  /** The connection is gone (called once). */
  onClosed(connection: UpstreamConnection): void;
}

export class UpstreamConnection implements ExchangeControl {
  private readonly socket: net.Socket;
  private readonly parser: ResponseParser;
  private exchange: Exchange | undefined;
  private isConnected = false;
  private hasHead = false;
  private isComplete = false;
  private isPausedForClient = false;
  private isBodySent = true;
  private shouldKeepAlive = false;
  private lastActiveAt = performance.now();

  constructor(private readonly options: ConnectionOptions) {
    this.parser = createResponseParser({
      onHead: (head) => {
        this.hasHead = true;
        this.shouldKeepAlive = head.shouldKeepAlive;
        this.exchange?.onHead(head);
      },
      onBody: (chunk) => {
        if (this.exchange && !this.exchange.onBody(chunk)) this.isPausedForClient = true;
      },
      onComplete: () => {
        this.isComplete = true;
        this.exchange?.onComplete();
      },
    });
    const socket = net.connect({ host: options.host, port: options.port, noDelay: true });
    this.socket = socket;
    socket.on('connect', () => {
      this.isConnected = true;
      this.lastActiveAt = performance.now();
    });
    this.parser.consume(socket, (error) => this.afterRead(error));
    socket.on('end', () => this.onEnd());
    socket.on('error', (error) => this.fail(this.errorOnClose(error)));
    socket.on('close', () => {
      this.fail(this.errorOnClose());
      this.parser.close();
      options.onClosed(this);
    });
  }

  get isBusy(): boolean {
    return this.exchange !== undefined;
  }

  get isClosed(): boolean {
    return this.socket.destroyed;
  }

  /** Sends `exchange`'s request; the connection must be idle and open. */
  start(exchange: Exchange): void {
    this.exchange = exchange;
    this.hasHead = false;
    this.isComplete = false;
    this.isPausedForClient = false;
    this.shouldKeepAlive = false;
    this.lastActiveAt = performance.now();
    const { request } = exchange;
    this.parser.reset({ isHead: request.isHead });
    exchange.onStart(this);
    if (this.exchange !== exchange) return; // aborted at once
    this.socket.write(request.head, 'latin1');
    this.isBodySent = request.body === null;
    if (request.body) this.sendBody(request.body, request.isChunked);
  }

  abort(): void {
    this.exchange = undefined;
    this.socket.destroy();
  }

  resume(): void {
    if (!this.isPausedForClient) return;
    this.isPausedForClient = false;
    this.lastActiveAt = performance.now();
    this.socket.resume();
  }

  /** Enforces the timeouts; called every few hundred ms by the pool. */
  sweep(now: number): void {
    const silentMs = now - this.lastActiveAt;
    if (!this.isConnected) {
      if (silentMs > this.options.connectTimeoutMs)
        this.fail(upstreamError(UpstreamError.connectTimeout));
    } else if (!this.exchange) {
      if (silentMs >= this.options.keepAliveTimeoutMs) this.socket.destroy();
    } else if (this.isPausedForClient) {
      // The client is slow, not the backend; the client's own idle timeout covers it.
    } else if (!this.hasHead) {
      if (silentMs > this.options.headersTimeoutMs)
        this.fail(upstreamError(UpstreamError.headersTimeout));
    } else if (silentMs > this.options.bodyTimeoutMs) {
      this.fail(upstreamError(UpstreamError.bodyTimeout));
    }
  }

  /** Destroys the connection; its exchange, if any, fails as if the backend had closed it. */
  destroy(): void {
    this.fail(this.errorOnClose());
  }

  /** Closes the connection now if idle (draining); a busy one closes after its exchange. */
  closeIfIdle(): void {
    if (!this.exchange) this.socket.destroy();
  }

  private afterRead(error: Error | undefined): void {
    this.lastActiveAt = performance.now();
    if (!this.exchange) {
      // Bytes nobody asked for: an answer to no request must not become the next one's (the
      // parser's callbacks ignored them; any later byte would begin a second response).
      this.socket.destroy();
      return;
    }
    if (error) return this.fail(error);
    if (this.isComplete) return this.release();
    this.exchange?.onReadEnd();
    if (this.isPausedForClient) this.socket.pause();
  }

  private onEnd(): void {
    if (!this.exchange) return void this.socket.destroy();
    const error = this.parser.finish();
    if (this.isComplete) {
      this.shouldKeepAlive = false;
      return this.release();
    }
    this.fail(this.errorOnClose(error));
  }

  /** The error an exchange sees when the connection breaks now. */
  private errorOnClose(cause?: unknown): Error {
    if (!this.isConnected) return upstreamError(UpstreamError.connectFailed, cause);
    const code = this.hasHead ? UpstreamError.closedMidBody : UpstreamError.closedEarly;
    return upstreamError(code, cause);
  }

  private fail(error: Error): void {
    const exchange = this.exchange;
    this.exchange = undefined;
    this.socket.destroy();
    exchange?.onError(error);
  }

  /** The answer is complete: reuse the connection when nothing is left in doubt. */
  private release(): void {
    this.exchange = undefined;
    if (this.shouldKeepAlive && this.isBodySent && !this.socket.destroyed)
      this.options.onIdle(this);
    else this.socket.destroy();
  }

  private sendBody(body: Readable, isChunked: boolean): void {
    const socket = this.socket;
    const exchange = this.exchange;
    const onDrain = () => body.resume();
    body.on('data', (chunk: Buffer) => {
      if (this.exchange !== exchange) return;
      this.lastActiveAt = performance.now();
      let isFull: boolean;
      if (isChunked) {
        socket.cork();
        socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
        socket.write(chunk);
        isFull = !socket.write('\r\n', 'latin1');
        socket.uncork();
      } else isFull = !socket.write(chunk);
      if (isFull) {
        body.pause();
        socket.once('drain', onDrain);
      }
    });
    body.once('end', () => {
      // An answer that came before the whole body left the connection unusable (destroyed).
      if (this.exchange !== exchange) return;
      if (isChunked) socket.write('0\r\n\r\n', 'latin1');
      this.isBodySent = true;
    });
    body.once('error', (error) => {
      if (this.exchange === exchange)
        this.fail(upstreamError(UpstreamError.requestBodyFailed, error));
    });
  }
}
