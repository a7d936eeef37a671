// `npm run bench`: runs every `bench:*` npm script in turn; each prints its figures and writes
// bench/results/<name>.json. Exits non-zero when one fails.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const { scripts } = JSON.parse(readFileSync('package.json', 'utf8')) as {
  scripts: Record<string, string>;
};
const names = Object.keys(scripts).filter((name) => name.startsWith('bench:'));
let failed = 0;
for (const name of names) {
  console.log(`\n=== npm run ${name}`);
  const result = spawnSync('npm', ['run', '--silent', name], { stdio: 'inherit' });
  if (result.status !== 0) {
    failed++;
    console.error(`${name} failed with exit code ${String(result.status)}`);
  }
}
process.exit(failed > 0 ? 1 : 0);
