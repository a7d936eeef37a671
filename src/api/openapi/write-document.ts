// `npm run openapi`: writes openapi/openapi.json from the schemas (checked in, kept current).
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { renderOpenApiDocument } from './render.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const { version } = JSON.parse(await readFile(`${root}package.json`, 'utf8')) as { version: string };
await writeFile(`${root}openapi/openapi.json`, renderOpenApiDocument({ version }));
process.stdout.write(`wrote openapi/openapi.json (version ${version})\n`);
