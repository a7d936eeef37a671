// Shared by benchmarks: statistics and writing bench/results/<name>.json.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

export async function writeResults(name: string, results: unknown): Promise<void> {
  const dir = path.resolve('bench/results');
  await mkdir(dir, { recursive: true });
  await writeFile(
    path.join(dir, `${name}.json`),
    JSON.stringify({ measuredAt: new Date().toISOString(), ...(results as object) }, null, 2) +
      '\n',
  );
}
