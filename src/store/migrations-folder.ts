// Finds the package root and its drizzle/ (the generated migrations) from this file, whether it
// runs from src/ or dist/.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest directory above this module that holds a package.json. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`No package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
}

/** The package root's `drizzle/` folder. Throws when it has no `drizzle/meta/_journal.json`. */
export function findMigrationsFolder(): string {
  const folder = join(packageRoot(), 'drizzle');
  if (!existsSync(join(folder, 'meta', '_journal.json'))) {
    throw new Error(`No migrations in ${folder} (run npm run db:generate)`);
  }
  return folder;
}
