// /openapi.json (the document) and /docs (Swagger UI served from the swagger-ui-dist package,
// so the page works without reaching any CDN).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Hono } from 'hono';
import { NotFoundError } from '../../domain/index.js';
import type { ApiDeps } from '../deps.js';
import { buildOpenApiDocument } from './document.js';

const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Pacer API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script>window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#ui' });</script>
</body>
</html>
`;

function assetDir(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('swagger-ui-dist/package.json'));
}

/** Routes of `/openapi.json` and `/docs`. The document is built once, on first request. */
export function openApiRoutes(deps: ApiDeps): Hono {
  const routes = new Hono();
  let document: string | undefined;
  const assets = new Map<string, Uint8Array>();

  routes.get('/openapi.json', (c) => {
    document ??= JSON.stringify(buildOpenApiDocument({ version: deps.info.version }));
    return c.body(document, 200, { 'Content-Type': 'application/json' });
  });

  routes.get('/docs', (c) => c.html(PAGE));

  routes.get('/docs/:asset', async (c) => {
    const name = c.req.param('asset');
    const type = ASSETS[name];
    if (!type) throw new NotFoundError(`Asset '${name}' does not exist`);
    let bytes = assets.get(name);
    if (!bytes) {
      bytes = new Uint8Array(await readFile(path.join(assetDir(), name)));
      assets.set(name, bytes);
    }
    c.header('Content-Type', type);
    c.header('Cache-Control', 'public, max-age=86400');
    return c.body(bytes as Uint8Array<ArrayBuffer>);
  });

  return routes;
}
