// postgres.js (3.4.9) on a connection whose server session ended under it: a statement sent on a
// reserved connection after it closed must fail, not take the process down from a timer inside
// the driver ("Cannot read properties of null (reading 'write')" in nextWrite, porsager/postgres
// #1208 and #1154). A chaos-suite master died of it when Postgres came back from an outage; the
// driver is patched (patches/postgres+3.4.9.patch).
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, hasService } from './support/services.js';
import { waitFor } from './support/wait-for.js';

const hasPostgres = await hasService('postgres');

describe.skipIf(!hasPostgres)('postgres.js on a connection that closed', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let sql: postgres.Sql;
  let killer: postgres.Sql;
  const closed: number[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    sql = postgres(database.url, {
      max: 2,
      onnotice: () => undefined,
      onclose: (id) => void closed.push(id),
    });
    killer = postgres(database.url, { max: 1, onnotice: () => undefined });
  });
  afterAll(async () => {
    await sql?.end({ timeout: 1 });
    await killer?.end({ timeout: 1 });
    await database?.drop();
  });

  it('fails the statements sent on a reserved connection after its session ended, and serves on', async () => {
    const reserved = await sql.reserve();
    const [row] = await reserved<{ pid: number }[]>`select pg_backend_pid() as pid`;
    await killer`select pg_terminate_backend(${row?.pid ?? 0})`;
    await waitFor('the driver to see the connection close', () => closed.length > 0);

    // Each settles with an error; before the patch the first threw from a timer and the
    // process died (Vitest reports it as an unhandled error).
    await expect(reserved`select 1`).rejects.toThrow();
    await expect(reserved`select 2 as two`).rejects.toThrow();
    // The pool still answers on its other connections.
    expect(await sql`select 3 as three`).toEqual([{ three: 3 }]);
  });
});
