// One attempt at a request on a backend's pool, its answer written straight into the client's
// response: raw headers (hop-by-hop ones dropped) as a flat list; an answer that arrived whole in
// one read goes out with its length in one write, a longer one piece by piece as it comes, with
// the client's backpressure passed back to the upstream socket; a client that goes away destroys
// the upstream connection. One object per request and no timer (the pool sweeps).
import type { ServerResponse } from 'node:http';
import { downstreamRawHeaders } from './forwarded-headers.js';
import type { ResponseHead } from './response-parser.js';
import {
  UpstreamError,
  upstreamError,
  type Exchange,
  type ExchangeControl,
  type UpstreamRequest,
} from './upstream-connection.js';
import type { UpstreamPool } from './upstream-pool.js';

export interface ExchangeOutcome {
  /** The response headers went to the client (a failure now can only cut the response). */
  isResponding: boolean;
  error?: Error;
}

export interface ResponseTarget {
  res: ServerResponse;
  /** Called with the status just before the headers are written. */
  onHeaders(statusCode: number): void;
}

class ClientAnswer implements Exchange {
  private control: ExchangeControl | undefined;
  private isResponding = false;
  private isSettled = false;
  private isWaitingForDrain = false;
  /**
   * The head and first body piece, held until the answer completes or the read that brought
   * them is parsed: an answer that arrives whole goes out with a Content-Length in one write
   * (`end(body)`), not chunked in several.
   */
  private heldHead: ResponseHead | undefined;
  private heldChunk: Buffer | undefined;
  private readonly onClientClose = () => {
    if (this.target.res.writableFinished) return;
    this.control?.abort();
    this.settle(Object.assign(new Error('the client went away'), { code: 'CLIENT_GONE' }));
  };
  private readonly onClientDrain = () => {
    this.isWaitingForDrain = false;
    this.control?.resume();
  };

  constructor(
    readonly request: UpstreamRequest,
    private readonly target: ResponseTarget,
    private readonly resolve: (outcome: ExchangeOutcome) => void,
  ) {
    target.res.on('close', this.onClientClose);
  }

  onStart(control: ExchangeControl): void {
    this.control = control;
    if (this.isSettled) control.abort();
  }

  onHead(head: ResponseHead): void {
    if (!this.isSettled) this.heldHead = head;
  }

  onBody(chunk: Buffer): boolean {
    if (this.isSettled) return true;
    if (this.heldHead) {
      if (!this.heldChunk) {
        this.heldChunk = chunk;
        return true;
      }
      if (!this.sendHead(false)) return true;
    }
    return this.write(chunk);
  }

  onReadEnd(): void {
    if (this.heldHead && !this.isSettled) this.sendHead(false);
  }

  onComplete(): void {
    if (this.isSettled) return;
    if (this.heldHead) {
      if (!this.sendHead(true)) return;
    } else this.target.res.end();
    this.settle();
  }

  onError(error: Error): void {
    this.settle(error);
  }

  /** Writes the held head (and piece; with `isWhole`, as the whole body). False: it failed. */
  private sendHead(isWhole: boolean): boolean {
    const head = this.heldHead as ResponseHead;
    const chunk = this.heldChunk;
    this.heldHead = undefined;
    this.heldChunk = undefined;
    const { res } = this.target;
    const headers = downstreamRawHeaders(head.rawHeaders);
    const status = head.statusCode;
    if (isWhole && !this.request.isHead && status !== 204 && status !== 304 && !hasLength(headers))
      headers.push('content-length', String(chunk?.length ?? 0));
    try {
      // Node refuses some bytes llhttp lets through (a status under 100, say): nothing was sent
      // to the client yet, so it gets a 502.
      res.writeHead(status, headers);
    } catch (error) {
      this.control?.abort();
      this.settle(upstreamError(UpstreamError.badResponse, error));
      return false;
    }
    this.isResponding = true;
    this.target.onHeaders(status);
    if (isWhole) res.end(chunk);
    else if (chunk) this.write(chunk);
    return true;
  }

  private write(chunk: Buffer): boolean {
    if (this.target.res.write(chunk)) return true;
    if (!this.isWaitingForDrain) {
      this.isWaitingForDrain = true;
      this.target.res.once('drain', this.onClientDrain);
    }
    return false;
  }

  private settle(error?: Error): void {
    if (this.isSettled) return;
    this.isSettled = true;
    const { res } = this.target;
    res.off('close', this.onClientClose);
    if (this.isWaitingForDrain) res.off('drain', this.onClientDrain);
    this.resolve({ isResponding: this.isResponding, ...(error ? { error } : {}) });
  }
}

function hasLength(flat: string[]): boolean {
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i] as string;
    if (name.length === 14 && name.toLowerCase() === 'content-length') return true;
  }
  return false;
}

/**
 * Sends `request` on `pool`; settles once the response is written in full (`error` undefined)
 * or the exchange failed (see `UpstreamError` for the codes, `CLIENT_GONE` for a client that
 * left).
 */
export function sendUpstream(
  pool: UpstreamPool,
  request: UpstreamRequest,
  target: ResponseTarget,
): Promise<ExchangeOutcome> {
  return new Promise((resolve) => pool.dispatch(new ClientAnswer(request, target, resolve)));
}
