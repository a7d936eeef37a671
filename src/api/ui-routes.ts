// The web UI (web/, bundled by build-ui.ts into dist/ui): `/` redirects to `/ui`, which serves
// the page and its two assets from the package, under a strict Content-Security-Policy. The
// page holds no data: what it shows comes from the API with the signed-in token.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Hono } from 'hono';
import type { Context } from 'hono';
import { NotFoundError, UnavailableError } from '../domain/index.js';
import { packageRoot } from '../lib/index.js';
import { nameOf } from './path-params.js';
import { defineRoutes, on } from './route.js';
import { error, media } from './route-docs.js';

/** A Map, not an object: `/ui/toString` must not find Object.prototype's. */
const ASSETS = new Map([
  ['app.js', 'text/javascript; charset=utf-8'],
  ['app.css', 'text/css; charset=utf-8'],
]);

/**
 * Only the page's own script and styles run or load; data goes to the API only (same origin);
 * no inline script or style, no framing, no plugins, no form posts elsewhere. App ids, labels
 * and log lines are attacker-controlled: even markup that slipped into the DOM could not run.
 */
export const UI_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The operations of the web UI (open: the page and its assets carry no data). */
export const UI_ROUTES = defineRoutes({
  getRoot: {
    method: 'get',
    path: '/',
    operationId: 'getRoot',
    summary: 'Redirects to the web UI',
    tag: 'pacer',
    isOpen: true,
    answers: { '302': media('To /ui.', 'text/plain') },
  },
  getUiPage: {
    method: 'get',
    path: '/ui',
    operationId: 'getUiPage',
    summary: 'The web UI',
    tag: 'pacer',
    isOpen: true,
    answers: { '200': media('The page.', 'text/html'), '503': error('The UI was not built.') },
  },
  getUiAsset: {
    method: 'get',
    path: '/ui/{asset}',
    operationId: 'getUiAsset',
    summary: 'Script and styles of the web UI',
    tag: 'pacer',
    isOpen: true,
    params: { asset: nameOf('Asset') },
    answers: { '200': media('The asset.', 'text/plain'), '404': error('No such asset.') },
  },
});

function secure(c: Context): void {
  c.header('Content-Security-Policy', UI_CONTENT_SECURITY_POLICY);
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('Referrer-Policy', 'no-referrer');
  c.header('X-Frame-Options', 'DENY');
}

/** Routes of `/` and `/ui`; files are read once, from `dir` (default: the package's dist/ui). */
export function uiRoutes(options: { dir?: string } = {}): Hono {
  const routes = new Hono();
  const dir = options.dir ?? path.join(packageRoot(), 'dist', 'ui');
  const files = new Map<string, Uint8Array>();

  async function load(name: string): Promise<Uint8Array> {
    let bytes = files.get(name);
    if (!bytes) {
      try {
        bytes = new Uint8Array(await readFile(path.join(dir, name)));
      } catch {
        throw new UnavailableError('The web UI is not built (npm run build)');
      }
      files.set(name, bytes);
    }
    return bytes;
  }

  on(routes, UI_ROUTES.getRoot, (c) => c.redirect('/ui', 302));

  on(routes, UI_ROUTES.getUiPage, async (c) => {
    const page = await load('index.html');
    secure(c);
    c.header('Content-Type', 'text/html; charset=utf-8');
    c.header('Cache-Control', 'no-cache');
    return c.body(page as Uint8Array<ArrayBuffer>);
  });

  on(routes, UI_ROUTES.getUiAsset, async (c) => {
    const name = c.req.param('asset') ?? '';
    const type = ASSETS.get(name);
    if (!type) throw new NotFoundError(`Asset '${name}' does not exist`);
    const bytes = await load(name);
    secure(c);
    c.header('Content-Type', type);
    c.header('Cache-Control', 'no-cache');
    return c.body(bytes as Uint8Array<ArrayBuffer>);
  });

  return routes;
}
