// Unpacks a fetched archive (`fetch[].extract`: .tar, .tar.gz, .tgz, .zip) into the sandbox as an
// attacker's archive must be unpacked: regular files and directories only (no symlink, hard
// link, device or FIFO), every path inside the target directory (no absolute path, no `..`),
// the bytes written and the entries counted against the task's disk, no set-id bits.
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
// tar and yauzl load on the first archive, not with the agent: together they cost an idle
// agent ~9 MiB of heap for what most tasks never fetch (issue 14, the agent's footprint).
import type { ReadEntry } from 'tar';
import type yauzl from 'yauzl';

/** Why an archive was refused; the task fails to start with this message. */
export class ArchiveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArchiveError';
  }
}

export type ArchiveKind = 'tar' | 'zip';

/** The kind of archive a file name announces, as Mesos' fetcher decides; undefined = not one. */
export function archiveKindOf(fileName: string): ArchiveKind | undefined {
  const name = fileName.toLowerCase();
  if (name.endsWith('.zip')) return 'zip';
  if (name.endsWith('.tar') || name.endsWith('.tar.gz') || name.endsWith('.tgz')) return 'tar';
  return undefined;
}

export interface ExtractLimits {
  /** Most bytes all entries together may hold once written. */
  maxBytes: number;
  /** Most entries (files and directories). */
  maxEntries: number;
}

/** What an extraction wrote. */
export interface Extracted {
  bytes: number;
  entries: number;
}

/**
 * The absolute path an entry named `name` gets under `root`, or an ArchiveError: absolute
 * names, `..` segments, NUL and backslashes (a Windows separator some tools write) are refused.
 */
export function entryPath(root: string, name: string): string {
  if (name.includes('\0') || name.includes('\\'))
    throw new ArchiveError(`Archive entry '${name}' has a NUL or a backslash in its name`);
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name))
    throw new ArchiveError(`Archive entry '${name}' has an absolute path`);
  const segments = name.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw new ArchiveError(`Archive entry '${name}' leaves the sandbox`);
  if (segments.length === 0) return root;
  const resolved = path.resolve(root, ...segments);
  if (!resolved.startsWith(root + path.sep))
    throw new ArchiveError(`Archive entry '${name}' leaves the sandbox`);
  return resolved;
}

/** Files get 0644, or 0755 when the archive marks them executable; never set-id or sticky. */
const fileMode = (mode: number | undefined) => ((mode ?? 0) & 0o111 ? 0o755 : 0o644);

/** Counts entries and bytes; throws the first time a limit is passed. */
function createBudget(limits: ExtractLimits, archive: string) {
  const used: Extracted = { bytes: 0, entries: 0 };
  const tooLarge = () =>
    new ArchiveError(`${archive} unpacks to more than ${limits.maxBytes} bytes (the task's disk)`);
  return {
    used,
    /** Throws when `count` more bytes would not fit; charges nothing. */
    fits(count: number): void {
      if (used.bytes + count > limits.maxBytes) throw tooLarge();
    },
    entry(): void {
      if (++used.entries > limits.maxEntries)
        throw new ArchiveError(`${archive} has more than ${limits.maxEntries} entries`);
    },
    bytes(count: number): void {
      used.bytes += count;
      if (used.bytes > limits.maxBytes) throw tooLarge();
    },
  };
}

/** A pass-through that charges every byte to the budget (the real bytes, not declared sizes). */
function metered(charge: (count: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      try {
        charge(chunk.byteLength);
        done(null, chunk);
      } catch (error) {
        done(error as Error);
      }
    },
  });
}

/**
 * Unpacks `archive` into the directory `into` (which must exist). Throws an ArchiveError on the
 * first refused entry or passed limit; what was written by then stays (the sandbox is the
 * task's own and is removed with it).
 */
export async function extractArchive(options: {
  archive: string;
  kind: ArchiveKind;
  into: string;
  limits: ExtractLimits;
}): Promise<Extracted> {
  const root = path.resolve(options.into);
  const budget = createBudget(options.limits, path.basename(options.archive));
  if (options.kind === 'tar') await extractTar(options.archive, root, budget);
  else await extractZip(options.archive, root, budget);
  return budget.used;
}

type Budget = ReturnType<typeof createBudget>;

const TAR_FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);

async function extractTar(archive: string, root: string, budget: Budget): Promise<void> {
  const { Parser } = await import('tar');
  // gzip is recognised by its magic bytes; metadata entries (long names, pax) are capped.
  const parser = new Parser({ strict: true, noResume: true, maxMetaEntrySize: 64 * 1024 });
  const writes: Promise<void>[] = [];
  let failure: unknown;
  const fail = (error: unknown) => {
    failure ??= error;
    parser.abort(error instanceof Error ? error : new Error(String(error)));
  };
  parser.on('entry', (entry: ReadEntry) => {
    // After a refusal the parser may still hand over entries it had parsed: drop them.
    if (failure !== undefined) {
      entry.resume();
      return;
    }
    try {
      budget.entry();
      const target = entryPath(root, entry.path);
      if (entry.type === 'Directory') {
        mkdirSync(target, { recursive: true, mode: 0o755 });
        entry.resume();
        return;
      }
      if (!TAR_FILE_TYPES.has(entry.type)) {
        throw new ArchiveError(
          `Archive entry '${entry.path}' is a ${entry.type}: only files and directories are unpacked`,
        );
      }
      // A tar entry holds exactly its declared size: refuse before writing when it cannot fit.
      budget.bytes(entry.size);
      mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
      // 'wx': never through an existing file or link (a repeated entry fails instead).
      const out = createWriteStream(target, { flags: 'wx', mode: fileMode(entry.mode) });
      writes.push(
        new Promise<void>((resolve, reject) => {
          out.once('close', resolve);
          out.once('error', reject);
        }).catch((error: unknown) => fail(error)),
      );
      entry.pipe(out);
    } catch (error) {
      entry.resume();
      fail(error);
    }
  });
  await new Promise<void>((resolve, reject) => {
    const source = createReadStream(archive);
    source.once('error', reject);
    parser.once('error', reject);
    parser.once('abort', reject);
    parser.once('end', resolve);
    source.pipe(parser);
  }).catch((error: unknown) => {
    failure ??= error;
  });
  await Promise.all(writes);
  if (failure !== undefined) throw asArchiveError(failure, archive);
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

async function extractZip(archive: string, root: string, budget: Budget): Promise<void> {
  const { open } = (await import('yauzl')).default;
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    open(
      archive,
      // Sizes are checked against the data as it is inflated, names against `..` and `/`.
      { lazyEntries: true, autoClose: true, validateEntrySizes: true, strictFileNames: true },
      (error, file) => (error ? reject(asArchiveError(error, archive)) : resolve(file)),
    ),
  );
  try {
    await new Promise<void>((resolve, reject) => {
      zip.once('error', reject);
      zip.once('end', resolve);
      zip.on('entry', (entry: yauzl.Entry) => {
        unpackZipEntry(zip, entry, { root, budget }).then(
          () => zip.readEntry(),
          (error: unknown) => reject(error as Error),
        );
      });
      zip.readEntry();
    });
  } catch (error) {
    throw asArchiveError(error, archive);
  } finally {
    zip.close();
  }
}

async function unpackZipEntry(
  zip: yauzl.ZipFile,
  entry: yauzl.Entry,
  context: { root: string; budget: Budget },
): Promise<void> {
  const { root, budget } = context;
  budget.entry();
  const target = entryPath(root, entry.fileName);
  // Unix modes sit in the high half of the external attributes (0 when a tool set none).
  const mode = (entry.externalFileAttributes >>> 16) & 0xffff;
  const type = mode & S_IFMT;
  const isDirectory = entry.fileName.endsWith('/');
  if (type !== 0 && type !== (isDirectory ? S_IFDIR : S_IFREG)) {
    throw new ArchiveError(
      `Archive entry '${entry.fileName}' is not a plain file or directory (mode ${type.toString(8)})`,
    );
  }
  if (isDirectory) {
    mkdirSync(target, { recursive: true, mode: 0o755 });
    return;
  }
  // The declared size first (a bomb is refused before inflating), then the real bytes.
  budget.fits(entry.uncompressedSize);
  mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
  const data = await new Promise<NodeJS.ReadableStream>((resolve, reject) =>
    zip.openReadStream(entry, (error, stream) => (error ? reject(error) : resolve(stream))),
  );
  await pipeline(
    data,
    metered((count) => budget.bytes(count)),
    createWriteStream(target, { flags: 'wx', mode: fileMode(mode) }),
  );
}

function asArchiveError(error: unknown, archive: string): ArchiveError {
  if (error instanceof ArchiveError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ArchiveError(`Could not unpack ${path.basename(archive)}: ${message}`);
}
