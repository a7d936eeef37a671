// Builds the web UI (`npm run build`): one esbuild bundle of web/src with Preact and htm, and the
// page and styles beside it, into dist/ui, which the master serves at /ui (no CDN at run time).
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = path.join(path.dirname(fileURLToPath(import.meta.url)), 'web');
const out = path.join(here, '..', 'dist', 'ui');

await mkdir(out, { recursive: true });
await build({
  entryPoints: [path.join(here, 'src', 'main.ts')],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2022'],
  outfile: path.join(out, 'app.js'),
  legalComments: 'none',
  logLevel: 'warning',
});
await copyFile(path.join(here, 'index.html'), path.join(out, 'index.html'));
await copyFile(path.join(here, 'app.css'), path.join(out, 'app.css'));
