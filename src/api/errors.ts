// The one mapping from error codes (domain and HTTP-edge) to status and Marathon-shaped body.
// Handlers throw; `respondToError` (the app's onError) answers with this table.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { DomainError, ErrorCode } from '../domain/index.js';
import type { Violation } from '../domain/index.js';
import type { Logger } from '../lib/index.js';

/** Codes that only exist at the HTTP edge (request syntax, routing, transport). */
export const ApiErrorCode = {
  /** The body is not JSON; `details` is the parser's message (a string, as Jackson's). */
  INVALID_JSON: 'INVALID_JSON',
  /** The JSON has wrong types or misses fields; `details` is `[{path, errors}]` (play-json). */
  JSON_READ: 'JSON_READ',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  /** Jersey's NotFound: Marathon answers an unknown route with 500 (BEHAVIOUR.md, discrepancy 9). */
  URI_NOT_FOUND: 'URI_NOT_FOUND',
  INTERNAL: 'INTERNAL',
  /** This master follows and cannot reach (or name) the leader (LeaderProxyFilter). */
  NO_LEADER: 'NO_LEADER',
  /** A cap on open streams (events, log follows) is reached. */
  TOO_MANY_REQUESTS: 'TOO_MANY_REQUESTS',
} as const;
export type ApiErrorCode = (typeof ApiErrorCode)[keyof typeof ApiErrorCode];

/** An error raised by the HTTP edge itself, with an optional `details` payload. */
export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: string | Violation[],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The table: every code and the status it answers with. */
export const STATUS_OF: Record<ErrorCode | ApiErrorCode, ContentfulStatusCode> = {
  [ErrorCode.NOT_FOUND]: 404,
  [ErrorCode.CONFLICT]: 409,
  [ErrorCode.APP_LOCKED]: 409,
  [ErrorCode.VALIDATION]: 422,
  [ErrorCode.BAD_REQUEST]: 400,
  [ErrorCode.UNAVAILABLE]: 503,
  [ErrorCode.UNAUTHENTICATED]: 401,
  [ErrorCode.FORBIDDEN]: 403,
  [ApiErrorCode.INVALID_JSON]: 400,
  [ApiErrorCode.JSON_READ]: 400,
  [ApiErrorCode.PAYLOAD_TOO_LARGE]: 413,
  [ApiErrorCode.METHOD_NOT_ALLOWED]: 405,
  [ApiErrorCode.URI_NOT_FOUND]: 500,
  [ApiErrorCode.INTERNAL]: 500,
  [ApiErrorCode.NO_LEADER]: 502,
  [ApiErrorCode.TOO_MANY_REQUESTS]: 429,
};

/** Marathon's error body: `message`, plus `details` or `deployments` where Marathon sends them. */
export interface ErrorBody {
  message: string;
  details?: string | Violation[];
  deployments?: { id: string }[];
}

/** Status and body for any thrown value. Unknown values are internal errors. */
export function toErrorResponse(error: unknown): { status: ContentfulStatusCode; body: ErrorBody } {
  if (error instanceof ApiError) {
    const body: ErrorBody = { message: error.message };
    if (error.details !== undefined) body.details = error.details;
    return { status: STATUS_OF[error.code], body };
  }
  if (error instanceof DomainError) {
    const body: ErrorBody = { message: error.message };
    if ('violations' in error && Array.isArray(error.violations) && error.violations.length > 0) {
      body.details = error.violations as Violation[];
    }
    if ('deploymentIds' in error && Array.isArray(error.deploymentIds)) {
      body.deployments = (error.deploymentIds as string[]).map((id) => ({ id }));
    }
    return { status: STATUS_OF[error.code], body };
  }
  return { status: 500, body: { message: 'Internal server error' } };
}

/**
 * The app's `onError`: answers with the table; logs only server faults (5xx other than
 * Marathon's 500 for an unknown route, which is the client's mistake).
 */
export function respondToError(options: { error: unknown; c: Context; logger: Logger }): Response {
  const { error, c, logger } = options;
  const { status, body } = toErrorResponse(error);
  const isRouteMiss = error instanceof ApiError && error.code === ApiErrorCode.URI_NOT_FOUND;
  if (status >= 500 && !isRouteMiss) {
    logger.error({ err: error, method: c.req.method, path: c.req.path }, 'request failed');
  } else {
    logger.debug(
      { status, method: c.req.method, path: c.req.path, message: body.message },
      'request refused',
    );
  }
  return c.json(body, status);
}
