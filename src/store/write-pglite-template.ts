// `npm run build` step: makes the PGlite template (pglite-template.ts) that new `pacer dev` data
// directories start from, unless this build already has it.
import { existsSync } from 'node:fs';
import { openMigratedPglite } from './pglite-store.js';
import { templateFile, writeTemplate } from './pglite-template.js';

if (!existsSync(await templateFile())) {
  const client = await openMigratedPglite(undefined, { fromTemplate: false });
  const tarball = await client.dumpDataDir('none');
  await client.close();
  process.stdout.write(`PGlite template: ${await writeTemplate(tarball)}\n`);
}
