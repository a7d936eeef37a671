// One attempt at a request on a backend's pool, its answer written straight into the client's
// response: raw headers (hop-by-hop ones dropped) as a flat list, body pieces as they come with
// the client's backpressure passed back to the upstream socket, and a client that goes away
// destroys the upstream connection. One object per request and no timer (the pool sweeps).
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
    if (this.isSettled) return;
    const { res } = this.target;
    try {
      // Node refuses some bytes llhttp lets through (a status under 100, say): nothing was sent
      // to the client yet, so it gets a 502.
      res.writeHead(head.statusCode, downstreamRawHeaders(head.rawHeaders));
    } catch (error) {
      this.control?.abort();
      return this.settle(upstreamError(UpstreamError.badResponse, error));
    }
    this.isResponding = true;
    this.target.onHeaders(head.statusCode);
  }

  onBody(chunk: Buffer): boolean {
    if (this.isSettled || this.target.res.write(chunk)) return true;
    if (!this.isWaitingForDrain) {
      this.isWaitingForDrain = true;
      this.target.res.once('drain', this.onClientDrain);
    }
    return false;
  }

  onComplete(): void {
    if (this.isSettled) return;
    this.target.res.end();
    this.settle();
  }

  onError(error: Error): void {
    this.settle(error);
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
