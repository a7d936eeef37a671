// /v2/artifacts (Pacer's own): store Wasm modules by sha256 and serve them to agents.
// `GET …/sha256:<hex>/<name>` serves the same bytes; the name only names the sandbox file.
import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import {
  Action,
  BadRequestError,
  ForbiddenError,
  NotFoundError,
  isAllowed,
} from '../../domain/index.js';
import type { Principal } from '../../domain/index.js';
import type { ArtifactMeta } from '../../store/store.js';
import { authorize, principalOf } from '../authorize.js';
import type { ApiDeps } from '../deps.js';
import { ApiError, ApiErrorCode } from '../errors.js';

const DIGEST = 'sha256:[0-9a-f]{64}';
/** Default bytes of artifacts one principal may store (`artifactQuotaBytes`). */
export const DEFAULT_ARTIFACT_QUOTA_BYTES = 1024 * 1024 * 1024;

/** Uploading runs code's bytes on the master: only a principal that may create apps somewhere. */
function mayCreateSomewhere(principal: Principal): boolean {
  return principal.grants.some(
    (grant) => grant.actions.includes(Action.CREATE) || grant.actions.includes(Action.ADMIN),
  );
}

/** Routes of `/v2/artifacts`. Upload size is limited by server.ts (413 beyond). */
export function artifactsRoutes(deps: ApiDeps): Hono {
  const { store, info } = deps;
  const quotaBytes = deps.artifactQuotaBytes ?? DEFAULT_ARTIFACT_QUOTA_BYTES;
  const routes = new Hono();
  const uriOf = (digest: string) => `${info.publicUrl.replace(/\/$/, '')}/v2/artifacts/${digest}`;
  const toJson = (meta: ArtifactMeta) => ({
    uri: uriOf(meta.digest),
    digest: meta.digest,
    size: meta.size,
    createdAt: meta.createdAt,
  });

  routes.post('/v2/artifacts', async (c) => {
    const principal = principalOf(c);
    if (!mayCreateSomewhere(principal)) {
      throw new ForbiddenError(`'${principal.name}' may not create apps anywhere, nor upload`);
    }
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    if (bytes.length === 0) throw new BadRequestError('The artifact body is empty');
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    // Bytes already stored cost nothing more; new ones count against the uploader's quota.
    // (Concurrent uploads of one principal may pass the check together: bounded by the body limit.)
    const known = await store.artifacts.get(digest);
    if (!known) {
      const used = await store.artifacts.bytesOf(principal.name);
      if (used + bytes.byteLength > quotaBytes) {
        throw new ApiError(
          ApiErrorCode.PAYLOAD_TOO_LARGE,
          `Artifact quota exceeded: '${principal.name}' stores ${used} of ${quotaBytes} bytes ` +
            `and this upload is ${bytes.byteLength}; delete artifacts first`,
        );
      }
    }
    const meta = known ?? (await store.artifacts.put({ digest, bytes, uploader: principal.name }));
    c.header('Location', `/v2/artifacts/${digest}`);
    return c.json({ uri: uriOf(meta.digest), digest: meta.digest, size: meta.size }, 201);
  });

  // The list names every module of every team: admin only (downloads by digest are open).
  routes.get('/v2/artifacts', async (c) => {
    authorize(c, Action.ADMIN);
    return c.json({ artifacts: (await store.artifacts.list()).map(toJson) });
  });

  routes.delete(`/v2/artifacts/:digest{${DIGEST}}`, async (c) => {
    const digest = c.req.param('digest');
    const principal = principalOf(c);
    const artifact = await store.artifacts.get(digest);
    if (!artifact) throw new NotFoundError(`Artifact '${digest}' does not exist`);
    const isUploader = artifact.uploader !== undefined && artifact.uploader === principal.name;
    if (!isUploader && !isAllowed(principal, Action.ADMIN, '/')) throw new ForbiddenError();
    await store.artifacts.delete(digest);
    return c.body(null, 204);
  });

  routes.get(`/v2/artifacts/:digest{${DIGEST}}/:name?`, async (c) => {
    const digest = c.req.param('digest');
    const artifact = await store.artifacts.get(digest);
    if (!artifact) throw new NotFoundError(`Artifact '${digest}' does not exist`);
    const etag = `"${digest}"`;
    c.header('ETag', etag);
    c.header('Cache-Control', 'public, max-age=31536000, immutable');
    if (c.req.header('if-none-match') === etag) return c.body(null, 304);
    c.header('Content-Type', 'application/wasm');
    return c.body(artifact.bytes as Uint8Array<ArrayBuffer>, 200);
  });

  return routes;
}
