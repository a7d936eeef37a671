// postgres.js as drizzle's client, without round trips that carry nothing (issue #12: POST
// /v2/apps on Postgres is bound by the round trips of the applier's one write at a time; on a busy
// machine each also waits for Postgres and Node to be scheduled).
//
// - Statements are prepared (named, once per connection). drizzle hands every statement to
//   postgres.js's `unsafe`, unprepared: postgres.js then sends Parse + Describe, waits for the
//   parameter types, and only then Bind + Execute, holding back every statement queued behind
//   it. Each statement with parameters cost two round trips, and statements sent together (the
//   fence's lease check and a batch's writes) went one after the other. Prepared, a statement is
//   described once per connection, then goes out with the ones beside it in one write. The
//   statement texts are a fixed set (no `in ($1, …, $n)`; rows travel as one JSON parameter).
// - A transaction does not wait for its BEGIN: postgres.js's `begin` waits for BEGIN's answer
//   before the first statement goes out. Here they go out together, in order on one connection.
//
// drizzle's postgres-js session calls `options`, `unsafe` and `begin` on its client, and
// `unsafe` and `savepoint` on the client a transaction hands it: that is all this implements.
import type postgres from 'postgres';
import { statementsArriving } from './statements-arriving.js';
import { watchConnection, type ConnectionWatch } from './reserved-connections.js';

/** A connection of the pool for one transaction (reserved-connections.ts). */
type Reserve = () => Promise<postgres.ReservedSql>;

/** The part of a postgres.js client that drizzle's postgres-js session uses. */
interface SessionClient {
  options: postgres.Sql['options'];
  unsafe: postgres.Sql['unsafe'];
  begin?: <T>(fn: (inside: SessionClient) => Promise<T>) => Promise<T>;
  savepoint?: <T>(fn: (inside: SessionClient) => Promise<T>) => Promise<T>;
}

/** Statements of `sql` prepared, whatever drizzle asks. */
function prepared(sql: postgres.Sql | postgres.ReservedSql): postgres.Sql['unsafe'] {
  return (query, parameters, options) =>
    sql.unsafe(query, parameters, { ...options, prepare: true });
}

/** `client` as drizzle takes it: statements prepared, BEGIN sent with the first statement. */
export function pipelinedClient(client: postgres.Sql, reserve: Reserve): postgres.Sql {
  const outer: SessionClient = {
    // The same object: drizzle sets its type parsers there, and the connections read them.
    options: client.options,
    unsafe: prepared(client),
    begin: (fn) => pipelinedTransaction(client, reserve, fn),
  };
  return outer as unknown as postgres.Sql;
}

async function pipelinedTransaction<T>(
  client: postgres.Sql,
  reserve: Reserve,
  fn: (inside: SessionClient) => Promise<T>,
): Promise<T> {
  const connection = await reserve();
  const watch = watchConnection();
  try {
    // Sent with the first statement; its answer is awaited below, after theirs.
    const begun = watch.sent(connection.unsafe('begin').execute());
    let result: T;
    try {
      result = await watch.race(fn(insideTransaction(client, connection, watch)));
      await watch.race(begun);
    } catch (error) {
      watch.see(error);
      if (!watch.isLost()) await watch.race(connection.unsafe('rollback')).catch(watch.see);
      throw error;
    }
    // An aborted transaction answers COMMIT with ROLLBACK: a statement failed unseen.
    const committed = await watch.race(watch.sent(connection.unsafe('commit')));
    if (committed.command !== 'COMMIT') throw new Error('The transaction was rolled back');
    return result;
  } finally {
    if (!watch.isLost()) connection.release();
  }
}

/** The client of a transaction on `connection`: nested transactions are savepoints. */
function insideTransaction(
  client: postgres.Sql,
  connection: postgres.ReservedSql,
  watch: ConnectionWatch,
): SessionClient {
  let savepoints = 0;
  const send = prepared(connection);
  const inside: SessionClient = {
    options: client.options,
    unsafe: (query, parameters, options) => watch.sent(send(query, parameters, options)),
    async savepoint(fn) {
      const name = `s${savepoints++}`;
      await connection.unsafe(`savepoint ${name}`);
      try {
        return await fn(inside);
      } catch (error) {
        watch.see(error);
        if (!watch.isLost()) await watch.race(connection.unsafe(`rollback to savepoint ${name}`));
        throw error;
      }
    },
  };
  return inside;
}

/**
 * One transaction whose BEGIN, statements and COMMIT go out together: one round trip. `issue`
 * starts every statement at once on the client it gets (drizzle over the transaction's
 * connection) and hands back their promises; none may wait for another's answer. COMMIT follows
 * them on the connection; a statement that fails in the database aborts the transaction, so
 * Postgres answers that COMMIT with ROLLBACK and nothing is stored. One that fails before it is
 * sent (a check in the repository) makes it ROLLBACK instead. A statement started after COMMIT
 * went out (one waiting for another's answer) fails instead of running outside the transaction.
 */
export async function commitTogether(
  client: postgres.Sql,
  reserve: Reserve,
  issue: (inside: postgres.Sql) => Promise<unknown>[],
): Promise<void> {
  const connection = await reserve();
  const watch = watchConnection();
  let isEnding = false;
  let hasFailed = false;
  const send = prepared(connection);
  const arriving = statementsArriving();
  const inside: SessionClient = {
    // The pool's: drizzle sets its type parsers there (a reserved connection shares them).
    options: client.options,
    unsafe: (query, parameters, options) => {
      if (isEnding) throw new Error('A statement started after its transaction ended');
      // `sent` executes it: its place on the connection is taken now, before COMMIT's.
      return arriving.arrived(watch.sent(send(query, parameters, options)));
    },
  };
  try {
    const begin = watch.sent(connection.unsafe('begin').execute());
    let issued: Promise<unknown>[];
    try {
      issued = issue(inside as unknown as postgres.Sql);
    } catch (error) {
      issued = [Promise.reject(error instanceof Error ? error : new Error(String(error)))];
    }
    const statements = [begin, ...issued];
    for (const statement of statements) statement.catch(() => (hasFailed = true)); // seen below
    // COMMIT goes out behind every statement: once each has reached the connection (drizzle
    // hands one over a few microtasks after it starts), or after a turn (statements-arriving.ts).
    await arriving.all(issued.length);
    isEnding = true;
    // On a lost connection a statement has failed already: nothing more is sent.
    const ended = watch.isLost()
      ? []
      : [watch.sent(connection.unsafe(hasFailed ? 'rollback' : 'commit').execute())];
    const answers = await watch.race(Promise.allSettled([...statements, ...ended]));
    const failed = answers.find((answer) => answer.status === 'rejected');
    if (failed) throw failed.reason;
    const [committed] = await Promise.all(ended);
    if (committed?.command !== 'COMMIT') throw new Error('The transaction was rolled back');
  } finally {
    if (!watch.isLost()) connection.release();
  }
}
