// Disk space a directory tree takes (allocated blocks, hard links once, symlinks not followed).
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';

/** Bytes allocated under `dir`; entries that vanish during the walk are skipped. */
export async function diskUsageBytes(dir: string): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  const visit = async (entry: string): Promise<void> => {
    let stat;
    try {
      stat = await lstat(entry, { bigint: false });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    if (stat.nlink > 1 && !stat.isDirectory()) {
      const key = `${stat.dev}:${stat.ino}`;
      if (seen.has(key)) return;
      seen.add(key);
    }
    total += stat.blocks * 512;
    if (!stat.isDirectory()) return;
    let names: string[];
    try {
      names = await readdir(entry);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const name of names) await visit(path.join(entry, name));
  };
  await visit(dir);
  return total;
}
