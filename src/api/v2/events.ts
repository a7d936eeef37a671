// /v2/events: Marathon's server-sent event stream (BEHAVIOUR.md (f)): `event:` + one-line JSON
// `data:` per event, flushed one by one, filtered by `event_type`, with a keep-alive comment.
// Pacer adds `id:` lines: `Last-Event-ID` resumes after the last event a client saw. A caller sees
// only events about apps it may view; revoking its token closes its streams at once.
import type { Context } from 'hono';
import { Hono } from 'hono';
import { BadRequestError } from '../../domain/index.js';
import { canSeeEvent } from '../auth/index.js';
import { principalOf } from '../authorize.js';
import type { ApiDeps } from '../deps.js';
import { ApiError, ApiErrorCode } from '../errors.js';
import { DEFAULT_EVENT_STREAM_LIMITS, createStreamCap } from '../stream-caps.js';
import { queryAll } from '../request.js';
import { clientIp } from '../responses.js';
import { defineRoutes, on } from '../route.js';
import { error, listQuery } from '../route-docs.js';

/** Marathon's `--event_stream_max_outstanding_messages` default. */
export const DEFAULT_MAX_OUTSTANDING = 1024;
export const DEFAULT_KEEP_ALIVE_MS = 15_000;

function lastEventId(c: Context): number | undefined {
  const raw = c.req.header('last-event-id');
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw)) throw new BadRequestError(`Invalid Last-Event-ID '${raw}'`);
  return Number(raw);
}

/** The operations of `/v2/events`. */
export const EVENTS_ROUTES = defineRoutes({
  streamEvents: {
    method: 'get',
    path: '/v2/events',
    operationId: 'streamEvents',
    summary: 'Server-sent events (`Accept: text/event-stream`); `Last-Event-ID` resumes',
    tag: 'events',
    query: [
      listQuery('event_type', 'Only these event types (repeatable).'),
      { name: 'Last-Event-ID', in: 'header', schema: { type: 'string', pattern: '^[0-9]+$' } },
    ],
    answers: {
      '200': {
        description:
          'Frames `id:`, `event: <eventType>`, `data: <one-line JSON>`; comments keep the connection alive.',
        media: { type: 'text/event-stream', schema: { type: 'string' } },
      },
      '307': { description: 'This master follows; `Location` is the stream at the leader.' },
      '405': error('The request does not accept `text/event-stream`.'),
      '429': error('Too many open event streams, in total or of this principal.'),
    },
  },
});

/** Routes of `/v2/events`. */
export function eventsRoutes(deps: ApiDeps): Hono {
  const { events, logger } = deps;
  const keepAliveMs = deps.eventStream?.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS;
  const maxOutstanding = deps.eventStream?.maxOutstanding ?? DEFAULT_MAX_OUTSTANDING;
  const cap = createStreamCap({
    what: 'event streams',
    limits: deps.streamCaps?.eventStreams ?? DEFAULT_EVENT_STREAM_LIMITS,
  });
  const routes = new Hono();

  on(routes, EVENTS_ROUTES.streamEvents, (c) => {
    if (!(c.req.header('accept') ?? '').includes('text/event-stream')) {
      throw new ApiError(
        ApiErrorCode.METHOD_NOT_ALLOWED,
        'The event stream needs the header Accept: text/event-stream',
      );
    }
    const types = new Set(queryAll(c, 'event_type'));
    const afterId = lastEventId(c);
    const remoteAddress = clientIp(c);
    const principal = principalOf(c);
    // Counted from here until detach: 429 beyond the caps, before anything is subscribed.
    const release = cap.acquire(principal.name);
    const encoder = new TextEncoder();
    let unsubscribe: (() => void) | undefined;
    let forgetRevocation: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    let isClosed = false;

    const detach = () => {
      if (isClosed) return;
      isClosed = true;
      release();
      clearInterval(timer);
      unsubscribe?.();
      forgetRevocation?.();
      events
        .emit({ eventType: 'event_stream_detached', remoteAddress })
        .catch((error: unknown) => logger.error({ err: error }, 'event_stream_detached failed'));
    };

    // The connection's end detaches too: a stream whose start failed is never cancelled.
    c.req.raw.signal.addEventListener('abort', detach, { once: true });
    const body = new ReadableStream<Uint8Array>(
      {
        async start(controller) {
          const push = (text: string): boolean => {
            if (isClosed) return false;
            // A client that leaves this many events unread is cut off rather than let the
            // buffer grow without bound (Marathon's max outstanding messages).
            if ((controller.desiredSize ?? 0) <= 0) {
              logger.warn({ remoteAddress, maxOutstanding }, 'slow event stream client cut off');
              detach();
              controller.close();
              return false;
            }
            controller.enqueue(encoder.encode(text));
            return true;
          };
          forgetRevocation = deps.auth?.onRevoke((name) => {
            if (name !== principal.name || isClosed) return;
            logger.info({ remoteAddress, principal: name }, 'event stream closed: token revoked');
            detach();
            controller.close();
          });
          unsubscribe = await events.subscribe(
            (event, id) => {
              if (types.size > 0 && !types.has(event.eventType)) return;
              if (!canSeeEvent(principal, event)) return;
              push(`id: ${id}\nevent: ${event.eventType}\ndata: ${JSON.stringify(event)}\n\n`);
            },
            afterId === undefined ? undefined : { afterId },
          );
          timer = setInterval(() => push(': keep-alive\n\n'), keepAliveMs);
          timer.unref();
          await events.emit({ eventType: 'event_stream_attached', remoteAddress });
        },
        cancel() {
          detach();
        },
      },
      new CountQueuingStrategy({ highWaterMark: maxOutstanding }),
    );
    return c.body(body, 200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache, no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
  });

  return routes;
}
