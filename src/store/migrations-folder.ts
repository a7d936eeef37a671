// Finds drizzle/ (the generated migrations) in the package root, whether it runs from src/ or dist/.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../lib/index.js';

/** The package root's `drizzle/` folder. Throws when it has no `drizzle/meta/_journal.json`. */
export function findMigrationsFolder(): string {
  const folder = join(packageRoot(), 'drizzle');
  if (!existsSync(join(folder, 'meta', '_journal.json'))) {
    throw new Error(`No migrations in ${folder} (run npm run db:generate)`);
  }
  return folder;
}
