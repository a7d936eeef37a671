// Statements sent together to PGlite (pglite-together.ts) commit as one transaction: each gets
// its own answer, a failing one (in the database or before it was sent) leaves nothing stored
// and PGlite usable, and a statement started after the transaction ended is refused.
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from './database.js';
import { usePreparedStatements } from './pglite-prepared.js';
import { pgliteSendTogether } from './pglite-together.js';

describe('PGlite statements sent together', () => {
  let client: PGlite;
  let together: ReturnType<typeof pgliteSendTogether>;

  beforeAll(async () => {
    client = await PGlite.create();
    together = pgliteSendTogether(client, usePreparedStatements(client));
    await client.exec('create table t (id text primary key, n int)');
  });
  afterAll(async () => {
    await client?.close();
  });
  beforeEach(async () => {
    await client.exec('delete from t');
  });

  const ids = async () =>
    (await client.query<{ id: string }>('select id from t order by id')).rows.map((r) => r.id);
  const insert = (db: Database, id: string, n: number) =>
    db.execute(sql`insert into t (id, n) values (${id}, ${n}) returning id, n`);

  it('commits every statement in one transaction and answers each', async () => {
    const answers: unknown[] = [];
    await together((db) => [
      insert(db, 'a', 1).then((r) => answers.push(r)),
      insert(db, 'b', 2).then((r) => answers.push(r)),
      db
        .execute(sql`update t set n = n + 10 where id = 'a' returning n`)
        .then((r) => answers.push(r)),
    ]);
    expect(await ids()).toEqual(['a', 'b']);
    expect(answers).toEqual([
      expect.objectContaining({ rows: [{ id: 'a', n: 1 }] }),
      expect.objectContaining({ rows: [{ id: 'b', n: 2 }] }),
      // Statements run in the order issued: the update sees the insert before it.
      expect.objectContaining({ rows: [{ n: 11 }] }),
    ]);
    expect(client.isInTransaction()).toBe(false);
  });

  it('stores nothing when one statement fails in the database, and rejects with its error', async () => {
    const write = together((db) => [insert(db, 'a', 1), db.execute(sql`select 1 / 0`)]);
    await expect(write).rejects.toMatchObject({ cause: { code: '22012' } }); // division_by_zero
    expect(await ids()).toEqual([]);
    expect(client.isInTransaction()).toBe(false);
    await together((db) => [insert(db, 'c', 3)]); // and PGlite goes on
    expect(await ids()).toEqual(['c']);
  });

  it('stores nothing when a statement fails before it is sent', async () => {
    const write = together((db) => [insert(db, 'a', 1), Promise.reject(new Error('bad input'))]);
    await expect(write).rejects.toThrow('bad input');
    expect(await ids()).toEqual([]);
  });

  it('refuses a statement started after the transaction ended', async () => {
    const late = together((db) => [
      insert(db, 'a', 1).then(() => insert(db, 'late', 2)), // waits for an answer first
    ]);
    await expect(late).rejects.toMatchObject({
      cause: { message: 'A statement started after its transaction ended' },
    });
    expect(await ids()).toEqual(['a']);
  });

  it('waits for a transaction in progress, and one waits for it', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const open = client.transaction(async (tx) => {
      await tx.query(`insert into t (id, n) values ('tx', 0)`);
      await held;
    });
    const write = together((db) => [insert(db, 'a', 1)]);
    release();
    await Promise.all([open, write]);
    expect(await ids()).toEqual(['a', 'tx']);
  });
});
