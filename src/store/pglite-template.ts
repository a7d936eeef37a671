// A fresh PGlite database with every migration applied, kept as a gzipped tarball in dist/ by the
// build (write-pglite-template.ts). A new data directory is unpacked from it in ~0.8 s instead of
// running initdb and the migrations (~4 s of CPU and a second Postgres in memory): the first
// `npm start` and every test that starts `pacer dev` on a fresh directory get that back.
// The file name carries a key of PGlite's version and the migrations, so a template made by
// another build is never used; without one, PGlite runs initdb as before.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { packageRoot } from '../lib/index.js';
import { findMigrationsFolder } from './migrations-folder.js';

/** Where the template for this PGlite and these migrations lives (it may not exist). */
export async function templateFile(): Promise<string> {
  const key = createHash('sha256')
    .update(await pgliteVersion())
    .update(await readFile(join(findMigrationsFolder(), 'meta', '_journal.json')))
    .digest('hex')
    .slice(0, 16);
  return join(packageRoot(), 'dist', `pglite-template-${key}.tar.gz`);
}

/** The template's tarball, or undefined when this build has none. */
export async function readTemplate(): Promise<Blob | undefined> {
  const file = await templateFile();
  if (!existsSync(file)) return undefined;
  // Node's zlib is several times faster than PGlite's own gzip reader.
  return new Blob([gunzipSync(await readFile(file))]);
}

/**
 * Writes `tarball` as the template, atomically (a concurrent reader sees all of it or none), and
 * removes templates of earlier builds.
 */
export async function writeTemplate(tarball: Blob): Promise<string> {
  const file = await templateFile();
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, gzipSync(new Uint8Array(await tarball.arrayBuffer())));
  await rename(partial, file);
  const folder = dirname(file);
  for (const name of await readdir(folder)) {
    if (name.startsWith('pglite-template-') && join(folder, name) !== file)
      await rm(join(folder, name), { force: true });
  }
  return file;
}

async function pgliteVersion(): Promise<string> {
  // The package's exports hide its package.json: find it above its entry point.
  let dir = dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite')));
  while (!existsSync(join(dir, 'package.json'))) {
    if (dirname(dir) === dir) throw new Error('No package.json above @electric-sql/pglite');
    dir = dirname(dir);
  }
  return (JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { version: string })
    .version;
}
