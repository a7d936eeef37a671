// The one database type the repositories are written against: drizzle's Pg database, whichever
// driver (postgres-js or PGlite) is underneath, or a transaction on it.
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';

/** A drizzle Pg database or transaction; both drivers' databases are assignable to it. */
export type Database = PgDatabase<PgQueryResultHKT>;
