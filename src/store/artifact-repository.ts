// Artifacts (Wasm modules) by content digest: bytes in a bytea column, written once.
import { eq, sql } from 'drizzle-orm';
import type { Database } from './database.js';
import { appVersions, artifacts } from './schema.js';
import type { ArtifactMeta, ArtifactRepository } from './store.js';

/** The artifact repository on `db` (a database or a transaction). */
export function createArtifactRepository(options: { db: Database }): ArtifactRepository {
  const { db } = options;
  const meta = {
    digest: artifacts.digest,
    size: artifacts.size,
    createdAt: artifacts.createdAt,
    uploader: artifacts.uploader,
  };
  const toMeta = (row: {
    digest: string;
    size: number;
    createdAt: Date;
    uploader: string | null;
  }): ArtifactMeta => ({
    digest: row.digest,
    size: row.size,
    createdAt: row.createdAt.toISOString(),
    ...(row.uploader === null ? {} : { uploader: row.uploader }),
  });

  return {
    async put({ digest, bytes, uploader }) {
      // Same digest, same bytes: a second put keeps the first row (and its createdAt).
      await db
        .insert(artifacts)
        .values({
          digest,
          size: bytes.byteLength,
          bytes,
          createdAt: new Date(),
          uploader: uploader ?? null,
        })
        .onConflictDoNothing({ target: artifacts.digest });
      const [row] = await db.select(meta).from(artifacts).where(eq(artifacts.digest, digest));
      if (!row) throw new Error(`Artifact ${digest} vanished right after it was stored`);
      return toMeta(row);
    },

    async get(digest) {
      const [row] = await db.select().from(artifacts).where(eq(artifacts.digest, digest));
      return row && { ...toMeta(row), bytes: row.bytes };
    },

    async list() {
      const rows = await db.select(meta).from(artifacts).orderBy(artifacts.digest);
      return rows.map(toMeta);
    },

    async bytesOf(uploader) {
      const [row] = await db
        .select({ total: sql<string | number>`coalesce(sum(${artifacts.size}), 0)` })
        .from(artifacts)
        .where(eq(artifacts.uploader, uploader));
      return Number(row?.total ?? 0);
    },

    async referenced() {
      // Every mention counts (fetch URIs, cmd, args): keeping too much is safe, too little not.
      const rows = await db
        .selectDistinct({
          digest: sql<string>`(regexp_matches(${appVersions.definition}::text, 'sha256:[0-9a-f]{64}', 'g'))[1]`,
        })
        .from(appVersions);
      return new Set(rows.map((row) => row.digest));
    },

    async deleteUnreferenced(digest) {
      const deleted = await db
        .delete(artifacts)
        .where(
          sql`${artifacts.digest} = ${digest} AND NOT EXISTS (
            SELECT 1 FROM ${appVersions}
            WHERE strpos(${appVersions.definition}::text, ${digest}) > 0)`,
        )
        .returning({ digest: artifacts.digest });
      return deleted.length === 1;
    },

    async delete(digest) {
      const deleted = await db
        .delete(artifacts)
        .where(eq(artifacts.digest, digest))
        .returning({ digest: artifacts.digest });
      return deleted.length === 1;
    },
  };
}
