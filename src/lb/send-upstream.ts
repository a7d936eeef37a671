// One request sent to a backend's pool with undici's low-level `dispatch`, its answer written
// straight into the client's response. Why not `stream()`: its promise, its AbortSignal (one
// controller, listener and removal per request), its parsed header object and its stream wiring
// cost the balancer a third of its CPU per request (profiled under bench:lb); here the handler
// gets the raw header list, which goes to the client as a flat list, and an `abort` function.
import type { ServerResponse } from 'node:http';
import type { Dispatcher, Pool } from 'undici';
import { downstreamRawHeaders } from './forwarded-headers.js';

export interface ExchangeOutcome {
  /** The response headers went to the client (a failure now can only cut the response). */
  isResponding: boolean;
  error?: Error;
}

/**
 * Dispatches `options` on `pool`; settles once the response is written in full (`error`
 * undefined) or the exchange failed. `onHeaders` is called with the status before the headers are
 * written. A client that goes away aborts the upstream request.
 */
export function sendUpstream(
  pool: Pool,
  options: Dispatcher.DispatchOptions,
  target: { res: ServerResponse; onHeaders: (statusCode: number) => void },
): Promise<ExchangeOutcome> {
  const { res } = target;
  return new Promise((resolve) => {
    let isResponding = false;
    let isSettled = false;
    let abort: ((error?: Error) => void) | undefined;
    let onDrain: (() => void) | undefined;
    const settle = (error?: Error): void => {
      if (isSettled) return;
      isSettled = true;
      res.off('close', onClose);
      if (onDrain) res.off('drain', onDrain);
      resolve({ isResponding, error });
    };
    const onClose = (): void => {
      if (res.writableFinished) return;
      const error = Object.assign(new Error('the client went away'), { code: 'CLIENT_GONE' });
      abort?.(error);
      settle(error);
    };
    res.once('close', onClose);
    pool.dispatch(options, {
      onConnect(abortRequest) {
        abort = abortRequest;
        if (isSettled) abortRequest();
      },
      onHeaders(statusCode, rawHeaders, resume) {
        // 1xx: the balancer answers `100 Continue` itself; other informational answers are dropped.
        if (statusCode < 200) return true;
        // A header Node refuses to write throws here: undici then fails the request (onError),
        // and the client gets a 502 since nothing was sent to it yet.
        res.writeHead(statusCode, downstreamRawHeaders(rawHeaders));
        isResponding = true;
        target.onHeaders(statusCode);
        onDrain = resume;
        res.on('drain', resume);
        return true;
      },
      onData(chunk) {
        // false pauses the upstream socket until the client drains (`resume` above).
        return res.write(chunk);
      },
      onComplete() {
        res.end();
        settle();
      },
      onError(error) {
        settle(error);
      },
    });
  });
}
