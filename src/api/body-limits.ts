// Request body limits (413 beyond), applied by the leader's routes and by a follower's relay
// alike, so a follower never buffers or forwards more than the leader would accept.
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ApiDeps } from './deps.js';
import { ApiError, ApiErrorCode } from './errors.js';

/** Default limit of a JSON request body (413 beyond). */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Default limit of an artifact upload (413 beyond). */
export const DEFAULT_MAX_ARTIFACT_BYTES = 64 * 1024 * 1024;
/** Methods that may carry a body; reads skip the limit so the hot path stays short. */
export const WRITE_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'];

/**
 * Middleware limiting bodies: `maxArtifactBytes` for `POST /v2/artifacts`, `maxBodyBytes` for
 * the rest. Counts streamed bytes too, so a chunked body without `Content-Length` is cut off.
 */
export function limitBodies(
  deps: Pick<ApiDeps, 'maxBodyBytes' | 'maxArtifactBytes'>,
): MiddlewareHandler {
  const tooLarge = (maxSize: number): MiddlewareHandler => {
    const refuse = () => {
      throw new ApiError(
        ApiErrorCode.PAYLOAD_TOO_LARGE,
        `Request body is larger than ${maxSize} bytes`,
      );
    };
    const streamed = bodyLimit({ maxSize, onError: refuse });
    return (c, next) => {
      // A body framed by Content-Length (Node's parser holds it to exactly that many bytes) is
      // judged by the header, as `bodyLimit` does, but without touching `c.req.raw.body`: that
      // builds a web Request over a web stream of the socket, and the handler's `c.req.text()`
      // then reads through it (measured: 8 % of the master's CPU per POST /v2/apps) instead of
      // @hono/node-server's direct read of the request.
      const length = c.req.header('content-length');
      if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
        return Number.parseInt(length, 10) > maxSize ? refuse() : next();
      }
      return streamed(c, next);
    };
  };
  const json = tooLarge(deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
  const artifact = tooLarge(deps.maxArtifactBytes ?? DEFAULT_MAX_ARTIFACT_BYTES);
  return (c, next) => (c.req.path === '/v2/artifacts' ? artifact(c, next) : json(c, next));
}
