// postgres.js's reserve() and release(), safe when Postgres goes away. In postgres.js 3.4.9:
//
// - a reserve() waiting for a connection while one of the pool's closes can be handed to that
//   connection's reconnect, which drops it: it never settles (porsager/postgres#1195);
// - releasing a reserved connection that closed puts the dead connection back in the pool: the
//   next statement on it never settles, or crashes the process on `null.write` (#1199); a
//   ROLLBACK sent on it after it closed does the same.
//
// A master met all of them when Postgres came back from an outage (the chaos suite): its
// take-over waited forever on a standby read stuck in reserve(), so no master could lead.
import type postgres from 'postgres';

/**
 * How long a reserve() waits before it asks again. A dropped one never answers; one still queued
 * answers later and is given back at once. Under a leader's lease (1.5 s for `pacer master`).
 */
const ASK_AGAIN_MS = 500;

/** A connection of `client` for a transaction; hand it back with `release`. */
export function reserveConnection(client: postgres.Sql): Promise<postgres.ReservedSql> {
  return new Promise((resolve, reject) => {
    let isSettled = false;
    const ask = (): void => {
      void client.reserve().then(
        (connection) => {
          // The first to get a connection serves the caller; the later ones give theirs back.
          if (isSettled) return connection.release();
          isSettled = true;
          clearInterval(timer);
          resolve(connection);
        },
        (error: unknown) => {
          if (isSettled) return;
          isSettled = true;
          clearInterval(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    };
    const timer = setInterval(ask, ASK_AGAIN_MS);
    ask();
  });
}

/**
 * Whether `error` (or one it wraps) says the connection itself is gone, not that a statement
 * failed in the database: then nothing more may be sent on it, nor may it be released.
 */
export function isConnectionLost(error: unknown): boolean {
  let current = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const { code, syscall } = current as { code?: unknown; syscall?: unknown };
    // A socket's own error names its system call; postgres.js's are CONNECTION_* and CONNECT_TIMEOUT.
    if (typeof syscall === 'string') return true;
    if (typeof code === 'string' && code.startsWith('CONNECT')) return true;
    current = current.cause;
  }
  return false;
}

export interface ConnectionWatch {
  /** `statement` itself, its failure seen: one that fails on a lost connection tells of it. */
  sent<T extends Promise<unknown>>(statement: T): T;
  /** Notes `error` when it says the connection is gone. */
  see: (error: unknown) => void;
  /** Once true, nothing more may be sent on the connection, nor may it be released. */
  isLost(): boolean;
  /**
   * `answer`, or the connection's loss when that comes first: a statement still queued in a
   * reserved connection that closes never settles (porsager/postgres#1186).
   */
  race<T>(answer: Promise<T>): Promise<T>;
}

/** Watches one reserved connection through the statements of a transaction on it. */
export function watchConnection(): ConnectionWatch {
  let isLost = false;
  let onLost: (error: unknown) => void = () => undefined;
  const lost = new Promise<never>((_, reject) => (onLost = reject));
  lost.catch(() => undefined); // raced below; not an unhandled rejection when nobody waits
  const see = (error: unknown) => {
    if (isLost || !isConnectionLost(error)) return;
    isLost = true;
    onLost(error);
  };
  return {
    sent(statement) {
      statement.catch(see);
      return statement;
    },
    see,
    isLost: () => isLost,
    race: (answer) => Promise.race([answer, lost]),
  };
}
