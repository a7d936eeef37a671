// Prepared PGlite queries answer as PGlite's own do: the same rows and types, the same errors
// with their codes, transactions that still roll back, and each text prepared once.
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usePreparedStatements } from './pglite-prepared.js';

describe('PGlite with prepared statements', () => {
  let plain: PGlite;
  let prepared: PGlite;

  beforeAll(async () => {
    [plain, prepared] = await Promise.all([PGlite.create(), PGlite.create()]);
    usePreparedStatements(prepared);
    for (const db of [plain, prepared])
      await db.exec(
        'create table t (id text primary key, n int, doc jsonb, at timestamptz, b bytea)',
      );
  });
  afterAll(async () => {
    await Promise.all([plain?.close(), prepared?.close()]);
  });

  const insert = 'insert into t (id, n, doc, at, b) values ($1, $2, $3, $4, $5) returning *';
  const rows: unknown[][] = [
    [
      'a',
      1,
      JSON.stringify({ k: [1, 'x'] }),
      new Date('2026-01-02T03:04:05.678Z'),
      new Uint8Array([0, 255]),
    ],
    ['b', null, null, null, null],
    ["it's", -7, '"a string"', new Date(0), new Uint8Array([])],
  ];

  it('answers inserts and selects as PGlite does, in both row modes', async () => {
    for (const row of rows) {
      const [mine, theirs] = await Promise.all([
        prepared.query(insert, row),
        plain.query(insert, row),
      ]);
      expect(mine.rows).toEqual(theirs.rows);
      expect(mine.fields).toEqual(theirs.fields);
      expect(mine.affectedRows).toBe(theirs.affectedRows);
    }
    const select = 'select * from t where id = any($1::text[]) order by id';
    const options = { rowMode: 'array' as const };
    const [mine, theirs] = await Promise.all([
      prepared.query(select, [['a', "it's"]], options),
      plain.query(select, [['a', "it's"]], options),
    ]);
    expect(mine.rows).toEqual(theirs.rows);
    expect(mine.rows).toHaveLength(2);
  });

  it('prepares each text once', async () => {
    const text = 'select count(*)::int as n from t where n > $1';
    for (let i = 0; i < 5; i++) expect((await prepared.query(text, [i - 10])).rows).toHaveLength(1);
    const held = await prepared.query<{ count: number }>(
      'select count(*)::int as count from pg_prepared_statements where statement = $1',
      [text],
    );
    expect(held.rows[0]?.count).toBe(1);
  });

  it('fails with the code Postgres gave and stays usable', async () => {
    const divide = prepared.query('select 1 / $1::int as x', [0]);
    await expect(divide).rejects.toMatchObject({ code: '22012' });
    await expect(prepared.query('select nonsense from nowhere')).rejects.toMatchObject({
      code: '42P01',
    });
    expect((await prepared.query('select 1 / $1::int as x', [1])).rows).toEqual([{ x: 1 }]);
  });

  it('rolls back a transaction whose statement failed, and queries outside wait for it', async () => {
    let outsideAt = 0;
    let insideEndAt = 0;
    const transaction = prepared.transaction(async (tx) => {
      await tx.query(insert, ['in-tx', 1, null, null, null]);
      // A query outside the transaction, started now, must not run before it ends.
      void prepared.query('select 1').then(() => (outsideAt = performance.now()));
      await new Promise((resolve) => setImmediate(resolve));
      insideEndAt = performance.now();
      await tx.query(insert, ['in-tx', 2, null, null, null]); // duplicate key
    });
    await expect(transaction).rejects.toMatchObject({ code: '23505' });
    expect((await prepared.query("select * from t where id = 'in-tx'")).rows).toEqual([]);
    await expect.poll(() => outsideAt).toBeGreaterThan(insideEndAt);
  });
});
