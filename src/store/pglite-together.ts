// One PGlite transaction in one call: BEGIN, the statements and COMMIT go into Postgres together,
// the PGlite counterpart of pipelined-client.ts's `commitTogether` (issue #12: in `pacer dev`
// every write of the applier is such a transaction, and PGlite runs on the master's thread).
// drizzle's transaction sent BEGIN, each statement and COMMIT as calls of their own, each a trip
// into Wasm with its answer parsed before the next went in: ~1.55 ms of CPU for an instance put
// and its two events, against ~1.0 ms in one call.
//
// The statements are issued on a drizzle database whose client only collects them; once every
// one has reached it (statements-arriving.ts), they go in as one message with the prepared
// statements' Bind/Execute between BEGIN and COMMIT. A statement that fails aborts the
// transaction: Postgres skips the rest up to the Sync, the whole write is rolled back, and every
// statement rejects with that error.
import type { PGlite, QueryOptions, Results } from '@electric-sql/pglite';
import { protocol } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import type { Database } from './database.js';
import { statementsArriving } from './statements-arriving.js';
import { concat, type PreparedStatements } from './pglite-prepared.js';

interface Collected {
  text: string;
  params: unknown[];
  options: QueryOptions | undefined;
  resolve: (results: Results) => void;
  reject: (error: unknown) => void;
}

type BackendMessage = Parameters<PreparedStatements['results']>[0][number];

/** `sendTogether` for `createDrizzleStore` on PGlite (see above). */
export function pgliteSendTogether(
  client: PGlite,
  prepared: PreparedStatements,
): (issue: (db: Database) => Promise<unknown>[]) => Promise<void> {
  return async (issue) => {
    const collected: Collected[] = [];
    let isEnding = false;
    const arriving = statementsArriving();
    const collector = {
      query(text: string, params: unknown[] = [], options?: QueryOptions) {
        if (isEnding) throw new Error('A statement started after its transaction ended');
        return arriving.arrived(
          new Promise<Results>((resolve, reject) =>
            collected.push({ text, params, options, resolve, reject }),
          ),
        );
      },
    };
    const db = drizzle({ client: collector as unknown as PGlite }) as unknown as Database;
    let issued: Promise<unknown>[];
    try {
      // As promises: a drizzle query given as is runs again on each `then`.
      issued = issue(db).map((statement) => Promise.resolve(statement));
    } catch (error) {
      issued = [Promise.reject(error instanceof Error ? error : new Error(String(error)))];
    }
    let hasFailed = false;
    for (const statement of issued) statement.catch(() => (hasFailed = true)); // awaited below
    await arriving.all(issued.length);
    isEnding = true;
    try {
      // One failed before it was sent (a check in its repository): nothing is written.
      if (hasFailed) throw new Error('The transaction was rolled back: a statement failed');
      const answers = await commit(client, prepared, collected);
      collected.forEach((statement, n) => statement.resolve(answers[n] as Results));
    } catch (error) {
      for (const statement of collected) statement.reject(error);
    }
    await Promise.all(issued);
  };
}

/** BEGIN, the statements and COMMIT in one call; the statements' answers, in order. */
async function commit(
  client: PGlite,
  prepared: PreparedStatements,
  collected: Collected[],
): Promise<Results[]> {
  const { serialize } = protocol;
  return prepared.exclusive(async () => {
    // Inside the mutexes: a statement seen for the first time is prepared outside any other
    // transaction (one that failed would refuse the Parse).
    const begin = await prepared.statementOf('begin');
    const end = await prepared.statementOf('commit');
    const parts = [...prepared.execution(begin, [])];
    for (const { text, params, options } of collected)
      parts.push(...prepared.execution(await prepared.statementOf(text), params, options));
    const message = concat([...parts, ...prepared.execution(end, []), serialize.sync()]);
    let messages: BackendMessage[];
    try {
      ({ messages } = await client.execProtocol(message, { syncToFs: false }));
    } catch (error) {
      // The transaction is aborted (or never began): end it before anything else runs.
      // (Not `client.exec`: it would wait for the mutexes held here.)
      if (client.isInTransaction())
        await client.execProtocol(serialize.query('rollback'), { syncToFs: false });
      throw error;
    }
    await client.syncToFs();
    const answers = splitAnswers(messages);
    const committed = answers.at(-1)?.at(-1) as { text?: string } | undefined;
    if (answers.length !== collected.length + 2 || committed?.text !== 'COMMIT')
      throw new Error('The transaction was rolled back');
    return collected.map(({ options }, n) =>
      prepared.results(answers[n + 1] as BackendMessage[], options),
    );
  });
}

/** The messages of each statement's answer: up to and including its CommandComplete. */
function splitAnswers(messages: BackendMessage[]): BackendMessage[][] {
  const answers: BackendMessage[][] = [];
  let current: BackendMessage[] = [];
  for (const message of messages) {
    current.push(message);
    if (message.name === 'commandComplete') {
      answers.push(current);
      current = [];
    }
  }
  return answers;
}
