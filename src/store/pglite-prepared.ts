// PGlite's `query`, with each statement text prepared once (issue #12: `pacer dev` is bound by
// PGlite, which runs Postgres on this thread). PGlite parses and plans every call anew (an unnamed
// statement) and crosses into Wasm five times per call (Parse, Describe, Bind, Describe, Execute)
// and once more to Sync. Planning was ~60 % of a one-row upsert (0.37 ms → 0.14 ms prepared,
// measured in memory); the store's statement texts are a fixed set, so each is parsed once per
// database: a named statement, then Bind + Describe + Execute + Sync in one call.
//
// The same mutexes as PGlite's own `query` (a call outside a transaction waits for one in progress;
// one inside takes the query mutex only), the same serializers and result parsing, and the same
// file-system sync after a call outside a transaction. Errors are PGlite's `DatabaseError`s, with
// the code Postgres gave (the fence's lease check fails as a division by zero).
import type { PGlite, QueryOptions, Results, Transaction } from '@electric-sql/pglite';
import { parse, protocol } from '@electric-sql/pglite';

/** Statements kept prepared; past it a text runs unnamed, as PGlite does (texts are a fixed set). */
const MAX_PREPARED = 500;

/** What PGlite has but does not declare public. */
interface PgliteInternals {
  _runExclusiveQuery<T>(fn: () => Promise<T>): Promise<T>;
  _runExclusiveTransaction<T>(fn: () => Promise<T>): Promise<T>;
  serializers: Record<number, (value: unknown) => string>;
  parsers: Parameters<typeof parse.parseResults>[1];
}

type Query = <T>(text: string, params?: unknown[], options?: QueryOptions) => Promise<Results<T>>;

/** What a caller needs to run prepared statements on `client` itself (pglite-together.ts). */
export interface PreparedStatements {
  /** The statement's name (prepared on first use) and its parameter types. */
  statementOf(text: string): Promise<{ name: string; types: number[] }>;
  /** Bind, Describe and Execute of a prepared statement with `params`, as PGlite serializes them. */
  execution(
    statement: { name: string; types: number[] },
    params: unknown[],
    options?: QueryOptions,
  ): Uint8Array[];
  /** Rows and fields of a statement's answer, as PGlite's `query` gives them. */
  results(messages: Parameters<typeof parse.parseResults>[0], options?: QueryOptions): Results;
  /** PGlite's own mutexes: no other query or transaction runs while `fn` does. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
}

/**
 * Replaces `client.query` and the `query` of its transactions with prepared execution; returns
 * the same machinery for statements sent together in one call (pglite-together.ts).
 */
export function usePreparedStatements(client: PGlite): PreparedStatements {
  const internals = client as unknown as PGlite & PgliteInternals;
  const { serialize } = protocol;
  const prepared = new Map<string, { name: string; types: number[] }>();

  async function statementOf(text: string) {
    const known = prepared.get(text);
    if (known) return known;
    const name = prepared.size < MAX_PREPARED ? `pacer_${prepared.size}` : '';
    const { messages } = await client.execProtocol(
      concat([
        serialize.parse({ name, text }),
        serialize.describe({ type: 'S', name }),
        serialize.sync(),
      ]),
      { syncToFs: false },
    );
    const statement = { name, types: parse.parseDescribeStatementResults(messages) };
    if (name !== '') prepared.set(text, statement);
    return statement;
  }

  const statements: PreparedStatements = {
    statementOf,
    execution({ name, types }, params, options) {
      const values = params.map((value, n) => {
        if (value === null || value === undefined) return null;
        const oid = types[n] as number;
        const toText = options?.serializers?.[oid] ?? internals.serializers[oid];
        // As PGlite does: a type without a serializer goes as the value's own text.
        return toText ? toText(value) : (value as { toString(): string }).toString();
      });
      return [
        serialize.bind({ statement: name, values }),
        serialize.describe({ type: 'P' }),
        serialize.execute({}),
      ];
    },
    results: (messages, options) =>
      parse.parseResults(messages, internals.parsers, options)[0] as Results,
    exclusive: (fn) => internals._runExclusiveTransaction(() => internals._runExclusiveQuery(fn)),
  };

  const run: Query = (text, params = [], options) =>
    internals._runExclusiveQuery(async () => {
      const statement = await statementOf(text);
      const { messages } = await client.execProtocol(
        concat([...statements.execution(statement, params, options), serialize.sync()]),
        { syncToFs: false },
      );
      if (!client.isInTransaction()) await client.syncToFs();
      return statements.results(messages, options) as Results<never>;
    });

  const transaction = client.transaction.bind(client);
  const query: Query = (text, params, options) =>
    internals._runExclusiveTransaction(() => run(text, params, options));
  Object.assign(client, {
    query,
    transaction: <T>(callback: (tx: Transaction) => Promise<T>) =>
      transaction((tx) => {
        const inside: Query = (text, params, options) => {
          if (tx.closed) throw new Error('Transaction is closed');
          return run(text, params, options);
        };
        return callback(Object.assign(Object.create(tx) as Transaction, { query: inside }));
      }),
  });
  return statements;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
