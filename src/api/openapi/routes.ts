// /openapi.json (the document) and /docs (Swagger UI served from the swagger-ui-dist package,
// so the page works without reaching any CDN).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Hono } from 'hono';
import { NotFoundError } from '../../domain/index.js';
import { nameOf } from '../path-params.js';
import { defineRoutes, on } from '../route.js';
import { error, media } from '../route-docs.js';

/** A Map, not an object: `/docs/toString` must not find Object.prototype's. */
const ASSETS = new Map([
  ['swagger-ui.css', 'text/css; charset=utf-8'],
  ['swagger-ui-bundle.js', 'text/javascript; charset=utf-8'],
]);

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

/** The operations of `/openapi.json` and `/docs` (open: no credentials needed). */
export const DOCS_ROUTES = defineRoutes({
  getOpenApiDocument: {
    method: 'get',
    path: '/openapi.json',
    operationId: 'getOpenApiDocument',
    summary: 'This document',
    tag: 'pacer',
    isOpen: true,
    answers: {
      '200': media('The OpenAPI 3.1 document.', 'application/json', { type: 'object' }),
    },
  },
  getDocsPage: {
    method: 'get',
    path: '/docs',
    operationId: 'getDocsPage',
    summary: 'A browsable rendering of this document',
    tag: 'pacer',
    isOpen: true,
    answers: { '200': media('The page.', 'text/html') },
  },
  getDocsAsset: {
    method: 'get',
    path: '/docs/{asset}',
    operationId: 'getDocsAsset',
    summary: 'Scripts and styles of the docs page',
    tag: 'pacer',
    isOpen: true,
    params: { asset: nameOf('Asset') },
    answers: { '200': media('The asset.', 'text/plain'), '404': error('No such asset.') },
  },
});

/**
 * Routes of `/openapi.json` and `/docs`. `document` renders the document (server.ts builds it
 * from every route's declaration); it is called once, on first request.
 */
export function openApiRoutes(options: { document: () => string }): Hono {
  const routes = new Hono();
  let document: string | undefined;
  const assets = new Map<string, Uint8Array>();

  on(routes, DOCS_ROUTES.getOpenApiDocument, (c) => {
    document ??= options.document();
    return c.body(document, 200, { 'Content-Type': 'application/json' });
  });

  on(routes, DOCS_ROUTES.getDocsPage, (c) => c.html(PAGE));

  on(routes, DOCS_ROUTES.getDocsAsset, async (c) => {
    const name = c.req.param('asset') ?? '';
    const type = ASSETS.get(name);
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
