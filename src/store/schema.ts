// Drizzle schema of the master's state: drizzle-kit generates drizzle/ from it, repositories query it.
// Whole domain objects live in typed json columns; the other columns exist for keys and lookups.
// json, not jsonb: no query looks inside them, and json stores the text as given, where jsonb
// parses it into a tree on every write and prints it back on every read (measured: POST
// /v2/apps on PGlite 13 % faster with json).
import {
  bigint,
  boolean,
  customType,
  doublePrecision,
  index,
  integer,
  json,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';
import type {
  Agent,
  AppDefinition,
  Deployment,
  Grant,
  Instance,
  Quota,
  TaskFailure,
} from '../domain/index.js';

/**
 * `bytea` ⇄ `Uint8Array`. postgres-js hands back a Buffer (copied into a plain Uint8Array so
 * callers never see a pooled buffer); PGlite hands back a Uint8Array. Anything else is an error.
 */
const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => 'bytea',
  toDriver: (value) => value,
  fromDriver: (value: unknown) => {
    if (!(value instanceof Uint8Array)) {
      throw new TypeError(`bytea column decoded as ${typeof value}, expected Uint8Array`);
    }
    return value.constructor === Uint8Array ? value : new Uint8Array(value);
  },
});

/** Current definition of every app. */
export const apps = pgTable('apps', {
  id: text('id').primaryKey(),
  version: text('version').notNull(),
  definition: json('definition').$type<AppDefinition>().notNull(),
  /** The transaction that last wrote the row (set by a trigger): warm standbys read what changed. */
  changeXid: bigint('change_xid', { mode: 'number' }),
});

/** Every stored version of every app (the current one included). */
export const appVersions = pgTable(
  'app_versions',
  {
    appId: text('app_id').notNull(),
    version: text('version').notNull(),
    definition: json('definition').$type<AppDefinition>().notNull(),
  },
  (table) => [primaryKey({ columns: [table.appId, table.version] })],
);

/** Marathon's `lastTaskFailure` of each app: its latest failed task. */
export const appTaskFailures = pgTable('app_task_failures', {
  appId: text('app_id').primaryKey(),
  data: json('data').$type<TaskFailure>().notNull(),
});

/** Latest known state of every instance. */
export const instances = pgTable(
  'instances',
  {
    instanceId: text('instance_id').primaryKey(),
    appId: text('app_id').notNull(),
    agentId: text('agent_id'),
    data: json('data').$type<Instance>().notNull(),
    /** The transaction that last wrote the row (set by a trigger): warm standbys read what changed. */
    changeXid: bigint('change_xid', { mode: 'number' }),
  },
  (table) => [index('instances_app_id_idx').on(table.appId)],
);

/** Agents as the master knows them. */
export const agents = pgTable('agents', {
  agentId: text('agent_id').primaryKey(),
  data: json('data').$type<Agent>().notNull(),
});

/**
 * Agents in maintenance (Mesos's drain): no new placements, their instances replaced elsewhere.
 * Apart from `agents` because offers rewrite that row; this one only the applier writes.
 */
export const agentDrains = pgTable('agent_drains', {
  agentId: text('agent_id').primaryKey(),
  /** When the drain was asked (`2026-01-02T03:04:05.678Z`). */
  since: text('since').notNull(),
  /** The transaction that last wrote the row (set by a trigger): warm standbys read what changed. */
  changeXid: bigint('change_xid', { mode: 'number' }),
});

/** Running deployments. */
export const deployments = pgTable('deployments', {
  id: text('id').primaryKey(),
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull(),
  data: json('data').$type<Deployment>().notNull(),
  /** The transaction that last wrote the row (set by a trigger): warm standbys read what changed. */
  changeXid: bigint('change_xid', { mode: 'number' }),
});

/** Wasm modules (and other fetched files) by content digest. */
export const artifacts = pgTable('artifacts', {
  digest: text('digest').primaryKey(),
  size: integer('size').notNull(),
  bytes: bytea('bytes').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull(),
  /** The principal whose upload stored it (counted in its quota); null before migration 0004. */
  uploader: text('uploader'),
});

/** The event stream behind `/v2/events`, replayable after an id. */
export const events = pgTable(
  'events',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    eventType: text('event_type').notNull(),
    /** The payload, its `plan` (if any) null: that is in `event_plans`, under `plan_key`. */
    payload: json('payload').$type<Record<string, unknown>>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    // A reference: a plan no event holds any more is deleted with its last event (`trim`).
    planKey: text('plan_key').references(() => eventPlans.key),
  },
  (table) => [index('events_plan_key_idx').on(table.planKey)],
);

/**
 * The deployment plans events carry, each stored once (a deployment's events share one; most of
 * their bytes), keyed by the SHA-256 of its text.
 */
export const eventPlans = pgTable('event_plans', {
  key: text('key').primaryKey(),
  plan: json('plan').$type<Record<string, unknown>>().notNull(),
});

/** Named leases (the leader lease), expiring at an epoch-ms instant. */
export const leases = pgTable('leases', {
  name: text('name').primaryKey(),
  holder: text('holder').notNull(),
  /** Epoch ms by the database's clock (never a master's own). */
  expiresAt: bigint('expires_at', { mode: 'number' }).notNull(),
  /** Raised each time the lease changes hands (never reset): leaderships in order. */
  term: bigint('term', { mode: 'number' }).notNull().default(1),
});

/** API principals: a name, its hashed secret (never the secret) and its grants. */
export const principals = pgTable('principals', {
  name: text('name').primaryKey(),
  /** `scrypt$N$r$p$<salt>$<hash>` (base64url), see api/auth/secret-hash.ts. */
  secretHash: text('secret_hash').notNull(),
  grants: json('grants').$type<Grant[]>().notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull(),
});

/** One-time join tokens for agents, by SHA-256 of the token (the token itself is never stored). */
export const agentJoinTokens = pgTable('agent_join_tokens', {
  tokenSha256: text('token_sha256').primaryKey(),
  hostname: text('hostname').notNull(),
  expiresAt: bigint('expires_at', { mode: 'number' }).notNull(),
  /** Set when an agent exchanged the token; a used token never works again. */
  usedAt: bigint('used_at', { mode: 'number' }),
  agentId: text('agent_id'),
});

/** Each joined agent's identity: its Redis user, by the SHA-256 of the password (as Redis keeps it). */
export const agentCredentials = pgTable('agent_credentials', {
  agentId: text('agent_id').primaryKey(),
  hostname: text('hostname').notNull(),
  passwordSha256: text('password_sha256').notNull(),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  /** Set when revoked; the row stays so the id is never believed again. */
  revokedAt: bigint('revoked_at', { mode: 'number' }),
});

/** Secret values by path, sealed (api/master secret-box: AES-256-GCM); never the plaintext. */
export const secrets = pgTable('secrets', {
  path: text('path').primaryKey(),
  /** 1 on creation, +1 on every write. */
  version: integer('version').notNull(),
  sealed: bytea('sealed').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull(),
});

/**
 * Records of top-level groups: only of one that enforces its role (`enforceRole`); every other
 * group is implied by the ids of the apps under it. `id` is the group's path, e.g. `/web`.
 */
export const groups = pgTable('groups', {
  id: text('id').primaryKey(),
  enforceRole: boolean('enforce_role').notNull(),
});

/** Quota and weight per role (`/v2/quota/{role}`, `/v2/weights/{role}`); a row per role with either. */
export const rolePolicies = pgTable('role_policies', {
  role: text('role').primaryKey(),
  quota: json('quota').$type<Quota>(),
  weight: doublePrecision('weight'),
  /** The transaction that last wrote the row (set by a trigger): warm standbys read what changed. */
  changeXid: bigint('change_xid', { mode: 'number' }),
});

/**
 * Rows removed from the tables a warm standby follows (apps, instances, deployments, role
 * policies, agent drains), written by a trigger with the removing transaction; trimmed by the
 * leader after a while (`state_change_horizon`).
 */
export const stateRemovals = pgTable(
  'state_removals',
  {
    tableName: text('table_name').notNull(),
    key: text('key').notNull(),
    changeXid: bigint('change_xid', { mode: 'number' }).notNull(),
    removedAt: timestamp('removed_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (table) => [index('state_removals_change_xid_idx').on(table.changeXid)],
);

/**
 * One row: removals of transactions below `below_xid` may have been trimmed, so a standby whose
 * cursor is below it reads the whole state again instead of what changed.
 */
export const stateChangeHorizon = pgTable('state_change_horizon', {
  id: integer('id').primaryKey(),
  belowXid: bigint('below_xid', { mode: 'number' }).notNull(),
});
