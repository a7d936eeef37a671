// Reading back an append-only file of JSON lines (the status outbox, the task records): the
// lines `parse` accepts, in order, and how many were damaged. The piece after the last newline is
// a torn write (the machine died mid-append), never a whole line: it counts as damaged too.
import { readFile } from 'node:fs/promises';

/** The lines of `file` that `parse` accepts; a missing file has none. */
export async function readJsonLines<T>(
  file: string,
  parse: (text: string) => T | undefined,
): Promise<{ lines: T[]; damaged: number }> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  const raws = text.split('\n');
  let damaged = raws.pop() ? 1 : 0;
  const lines: T[] = [];
  for (const raw of raws) {
    if (!raw) continue;
    const line = parse(raw);
    if (line === undefined) damaged++;
    else lines.push(line);
  }
  return { lines, damaged };
}
