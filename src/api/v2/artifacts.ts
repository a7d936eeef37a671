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
import type { Context } from 'hono';
import { nameOf } from '../path-params.js';
import { defineRoutes, on } from '../route.js';
import type { PathParam } from '../route.js';
import { error, json, media } from '../route-docs.js';

const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;
/** Default bytes of artifacts one principal may store (`artifactQuotaBytes`). */
export const DEFAULT_ARTIFACT_QUOTA_BYTES = 1024 * 1024 * 1024;

/** Uploading runs code's bytes on the master: only a principal that may create apps somewhere. */
function mayCreateSomewhere(principal: Principal): boolean {
  return principal.grants.some(
    (grant) => grant.actions.includes(Action.CREATE) || grant.actions.includes(Action.ADMIN),
  );
}

const digestParam: PathParam = {
  description: "The artifact's `sha256:<hex>`.",
  pattern: DIGEST_PATTERN.source,
  check: (digest) =>
    DIGEST_PATTERN.test(digest)
      ? undefined
      : new NotFoundError(`Artifact '${digest}' does not exist`),
};
const WASM_BODY = media('The module.', 'application/wasm', {
  type: 'string',
  contentMediaType: 'application/wasm',
});

/** The operations of `/v2/artifacts`. */
export const ARTIFACTS_ROUTES = defineRoutes({
  uploadArtifact: {
    method: 'post',
    path: '/v2/artifacts',
    operationId: 'uploadArtifact',
    summary: 'Store a Wasm module by its sha256',
    tag: 'pacer',
    body: { media: 'application/wasm' },
    answers: {
      '201': json('Stored.', 'StoredArtifact'),
      '400': error('Empty body.'),
      '403': error('The caller may create apps nowhere.'),
      '413': error("Larger than the upload limit, or past the uploader's quota."),
    },
  },
  listArtifacts: {
    method: 'get',
    path: '/v2/artifacts',
    operationId: 'listArtifacts',
    summary: 'Stored artifacts',
    tag: 'pacer',
    answers: { '200': json('The artifacts.', 'ArtifactList') },
  },
  deleteArtifact: {
    method: 'delete',
    path: '/v2/artifacts/{digest}',
    operationId: 'deleteArtifact',
    summary: 'Delete an artifact (its uploader or an admin)',
    tag: 'pacer',
    params: { digest: digestParam },
    answers: {
      '204': { description: 'Deleted.' },
      '403': error('Neither the uploader nor an admin.'),
      '404': error('No such artifact.'),
    },
  },
  getArtifact: {
    method: 'get',
    path: '/v2/artifacts/{digest}',
    operationId: 'getArtifact',
    summary: 'The bytes of an artifact (`sha256:<hex>`); `/{digest}/{name}` serves the same bytes',
    tag: 'pacer',
    isOpen: true,
    params: { digest: digestParam },
    answers: { '200': WASM_BODY, '404': error('No such artifact.') },
  },
  getNamedArtifact: {
    method: 'get',
    path: '/v2/artifacts/{digest}/{name}',
    operationId: 'getNamedArtifact',
    summary: 'The bytes of an artifact; `name` only names the file in the sandbox',
    tag: 'pacer',
    isOpen: true,
    params: { digest: digestParam, name: nameOf('File') },
    answers: { '200': WASM_BODY, '404': error('No such artifact.') },
  },
});

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

  on(routes, ARTIFACTS_ROUTES.uploadArtifact, async (c) => {
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
  on(routes, ARTIFACTS_ROUTES.listArtifacts, async (c) => {
    authorize(c, Action.ADMIN);
    return c.json({ artifacts: (await store.artifacts.list()).map(toJson) });
  });

  on(routes, ARTIFACTS_ROUTES.deleteArtifact, async (c) => {
    const digest = c.req.param('digest') ?? '';
    const principal = principalOf(c);
    const artifact = await store.artifacts.get(digest);
    if (!artifact) throw new NotFoundError(`Artifact '${digest}' does not exist`);
    const isUploader = artifact.uploader !== undefined && artifact.uploader === principal.name;
    if (!isUploader && !isAllowed(principal, Action.ADMIN, '/')) throw new ForbiddenError();
    await store.artifacts.delete(digest);
    return c.body(null, 204);
  });

  const getArtifact = async (c: Context) => {
    const digest = c.req.param('digest') ?? '';
    const artifact = await store.artifacts.get(digest);
    if (!artifact) throw new NotFoundError(`Artifact '${digest}' does not exist`);
    const etag = `"${digest}"`;
    c.header('ETag', etag);
    c.header('Cache-Control', 'public, max-age=31536000, immutable');
    if (c.req.header('if-none-match') === etag) return c.body(null, 304);
    c.header('Content-Type', 'application/wasm');
    return c.body(artifact.bytes as Uint8Array<ArrayBuffer>, 200);
  };
  on(routes, ARTIFACTS_ROUTES.getArtifact, getArtifact);
  on(routes, ARTIFACTS_ROUTES.getNamedArtifact, getArtifact);

  return routes;
}
