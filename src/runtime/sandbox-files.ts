// Makes a task's sandbox when its driver first needs it (TaskSpec.sandboxFiles): the directory,
// then the fetched files copied to its top from the agent's artifact cache, as the fetcher would.
import { chmodSync, constants as fsConstants, copyFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { SandboxFile } from './driver.js';

/**
 * Makes `sandboxDir` and copies `files` into it (synchronous: a Wasm worker calls it inside a
 * host call). Copies, never links (fetch-artifacts.ts, `copyInto`: a task may write its own
 * fetched file), created exclusively so nothing already there is written through; something left
 * at a name (an earlier process's sandbox of this task) is removed first.
 */
export function makeSandbox(sandboxDir: string, files: readonly SandboxFile[]): void {
  mkdirSync(sandboxDir, { recursive: true });
  const flags = fsConstants.COPYFILE_FICLONE | fsConstants.COPYFILE_EXCL;
  for (const file of files) {
    const target = path.join(sandboxDir, file.name);
    try {
      copyFileSync(file.from, target, flags);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      rmSync(target, { force: true, recursive: true });
      copyFileSync(file.from, target, flags);
    }
    if (file.isExecutable) chmodSync(target, 0o755);
  }
}
