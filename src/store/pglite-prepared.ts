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

/** Replaces `client.query` and the `query` of its transactions with prepared execution. */
export function usePreparedStatements(client: PGlite): void {
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

  const run: Query = (text, params = [], options) =>
    internals._runExclusiveQuery(async () => {
      const { name, types } = await statementOf(text);
      const values = params.map((value, n) => {
        if (value === null || value === undefined) return null;
        const oid = types[n] as number;
        const toText = options?.serializers?.[oid] ?? internals.serializers[oid];
        // As PGlite does: a type without a serializer goes as the value's own text.
        return toText ? toText(value) : (value as { toString(): string }).toString();
      });
      const { messages } = await client.execProtocol(
        concat([
          serialize.bind({ statement: name, values: values }),
          serialize.describe({ type: 'P' }),
          serialize.execute({}),
          serialize.sync(),
        ]),
        { syncToFs: false },
      );
      if (!client.isInTransaction()) await client.syncToFs();
      return parse.parseResults(messages, internals.parsers, options)[0] as Results<never>;
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
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
