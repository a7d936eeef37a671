// Who wrote master state, and under which lease: triggers in the test database record every
// statement that changes a fenced table (apps, instances, agents, deployments, events, …) with
// the writer's `application_name` and the leader lease as that same transaction sees it, and
// every (term, holder) the lease ever had. Fencing holds when each write's writer is the lease's
// holder; a paused leader that wrote after waking would show as a write by a non-holder.
import postgres from 'postgres';

/** The tables only the leader may change (store/fenced-store.ts). */
const FENCED_TABLES = [
  'apps',
  'app_versions',
  'app_task_failures',
  'instances',
  'agents',
  'deployments',
  'events',
];

export interface AuditedWrite {
  id: number;
  at: Date;
  writer: string;
  table: string;
  op: string;
  holder: string | null;
  term: number | null;
  live: boolean | null;
}

export interface WriteAudit {
  /** Writes after id `afterId` (all when absent). */
  writes(afterId?: number): Promise<AuditedWrite[]>;
  /** The highest id so far (0 when none): a mark to read `writes` after. */
  mark(): Promise<number>;
  /** Every (term, holder) the leader lease has had, in term order. */
  terms(): Promise<{ term: number; holder: string }[]>;
  /** The lease now: holder and term, when live. */
  lease(): Promise<{ holder: string; term: number } | undefined>;
  /** The sessions of this database now (for failure messages): who waits on what. */
  activity(): Promise<unknown[]>;
  close(): Promise<void>;
}

/**
 * Installs the audit into the database at `url` (after the masters' migrations created the
 * tables). Writers name themselves with `application_name` in their DATABASE_URL.
 */
export async function installWriteAudit(url: string): Promise<WriteAudit> {
  const sql = postgres(url, { max: 2, onnotice: () => {} });
  await sql.unsafe(`
    CREATE TABLE IF NOT EXISTS chaos_writes (
      id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp(),
      writer text NOT NULL, tbl text NOT NULL, op text NOT NULL,
      holder text, term bigint, live boolean);
    CREATE TABLE IF NOT EXISTS chaos_terms (
      term bigint NOT NULL, holder text NOT NULL, PRIMARY KEY (term, holder));
    CREATE OR REPLACE FUNCTION chaos_audit_write() RETURNS trigger AS $$
    DECLARE l record;
    BEGIN
      SELECT holder, term, expires_at > (extract(epoch from clock_timestamp()) * 1000)::bigint AS live
        INTO l FROM leases WHERE name = 'leader';
      INSERT INTO chaos_writes (writer, tbl, op, holder, term, live)
        VALUES (current_setting('application_name'), TG_TABLE_NAME, TG_OP, l.holder, l.term, l.live);
      RETURN NULL;
    END $$ LANGUAGE plpgsql;
    CREATE OR REPLACE FUNCTION chaos_audit_term() RETURNS trigger AS $$
    BEGIN
      INSERT INTO chaos_terms (term, holder) VALUES (NEW.term, NEW.holder) ON CONFLICT DO NOTHING;
      RETURN NULL;
    END $$ LANGUAGE plpgsql;
    DROP TRIGGER IF EXISTS chaos_terms ON leases;
    CREATE TRIGGER chaos_terms AFTER INSERT OR UPDATE ON leases
      FOR EACH ROW EXECUTE FUNCTION chaos_audit_term();
    INSERT INTO chaos_terms (term, holder) SELECT term, holder FROM leases ON CONFLICT DO NOTHING;
  `);
  for (const table of FENCED_TABLES) {
    await sql.unsafe(`
      DROP TRIGGER IF EXISTS chaos_writes ON ${table};
      CREATE TRIGGER chaos_writes AFTER INSERT OR UPDATE OR DELETE ON ${table}
        FOR EACH STATEMENT EXECUTE FUNCTION chaos_audit_write();`);
  }
  return {
    async writes(afterId = 0) {
      const rows = await sql<
        {
          id: string;
          at: Date;
          writer: string;
          tbl: string;
          op: string;
          holder: string | null;
          term: string | null;
          live: boolean | null;
        }[]
      >`SELECT * FROM chaos_writes WHERE id > ${afterId} ORDER BY id`;
      return rows.map((r) => ({
        id: Number(r.id),
        at: r.at,
        writer: r.writer,
        table: r.tbl,
        op: r.op,
        holder: r.holder,
        term: r.term === null ? null : Number(r.term),
        live: r.live,
      }));
    },
    async mark() {
      const [row] = await sql<{ id: string | null }[]>`SELECT max(id) AS id FROM chaos_writes`;
      return Number(row?.id ?? 0);
    },
    async terms() {
      const rows = await sql<{ term: string; holder: string }[]>`
        SELECT term, holder FROM chaos_terms ORDER BY term, holder`;
      return rows.map((r) => ({ term: Number(r.term), holder: r.holder }));
    },
    async lease() {
      const [row] = await sql<{ holder: string; term: string }[]>`
        SELECT holder, term FROM leases WHERE name = 'leader'
          AND expires_at > (extract(epoch from clock_timestamp()) * 1000)::bigint`;
      return row && { holder: row.holder, term: Number(row.term) };
    },
    async activity() {
      return [
        ...(await sql`
        SELECT application_name, state, wait_event_type, wait_event, left(query, 120) AS query,
               now() - state_change AS in_state_for
          FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`),
      ];
    },
    close: () => sql.end(),
  };
}
