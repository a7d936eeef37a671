// When a transaction sent together (pipelined-client.ts `commitTogether`, pglite-together.ts) may
// end: once each of its statements has reached the connection. drizzle hands a statement to its
// client a few microtasks after it starts, so the writers waited a whole turn of the event loop
// before COMMIT; under load that turn ran every HTTP request pending (~0.5 ms each on POST
// /v2/apps) while Postgres sat idle, holding the one write in flight (issue #12). Counting the
// statements as they arrive ends the wait as soon as the last one is there.

/**
 * Counts statements as they reach the connection (`arrived`, which hands its argument back);
 * `all(count)` resolves once `count`
 * have, or after one turn of the event loop at the latest: a statement that fails before it is
 * sent (a check in its repository) never arrives, and one that issues no statement neither.
 */
export function statementsArriving(): {
  arrived<T>(statement: T): T;
  all(count: number): Promise<void>;
} {
  let seen = 0;
  let expected = Number.POSITIVE_INFINITY;
  let onAll: () => void = () => undefined;
  const allArrived = new Promise<void>((resolve) => (onAll = resolve));
  return {
    arrived(statement) {
      if (++seen >= expected) onAll();
      return statement;
    },
    all(count) {
      expected = count;
      if (seen >= expected) onAll();
      let turn: NodeJS.Immediate | undefined;
      const turnEnded = new Promise<void>((resolve) => (turn = setImmediate(resolve)));
      return Promise.race([allArrived, turnEnded]).finally(() => clearImmediate(turn));
    },
  };
}
