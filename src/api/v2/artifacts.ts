// /v2/artifacts (Pacer's own): store Wasm modules by sha256 and serve them to agents.
// `GET …/sha256:<hex>/<name>` serves the same bytes; the name only names the sandbox file.
import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import { Action, BadRequestError, NotFoundError } from '../../domain/index.js';
import { authorize } from '../authorize.js';
import type { ArtifactMeta } from '../../store/store.js';
import type { ApiDeps } from '../deps.js';

const DIGEST = 'sha256:[0-9a-f]{64}';

/** Routes of `/v2/artifacts`. Upload size is limited by server.ts (413 beyond). */
export function artifactsRoutes(deps: ApiDeps): Hono {
  const { store, info } = deps;
  const routes = new Hono();
  const uriOf = (digest: string) => `${info.publicUrl.replace(/\/$/, '')}/v2/artifacts/${digest}`;
  const toJson = (meta: ArtifactMeta) => ({
    uri: uriOf(meta.digest),
    digest: meta.digest,
    size: meta.size,
    createdAt: meta.createdAt,
  });

  routes.post('/v2/artifacts', async (c) => {
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    if (bytes.length === 0) throw new BadRequestError('The artifact body is empty');
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const meta = await store.artifacts.put({ digest, bytes });
    c.header('Location', `/v2/artifacts/${digest}`);
    return c.json({ uri: uriOf(meta.digest), digest: meta.digest, size: meta.size }, 201);
  });

  // The list names every module of every team: admin only (downloads by digest are open).
  routes.get('/v2/artifacts', async (c) => {
    authorize(c, Action.ADMIN);
    return c.json({ artifacts: (await store.artifacts.list()).map(toJson) });
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
