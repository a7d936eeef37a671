// Repository interfaces over Postgres. One implementation (drizzle) runs on both the `postgres`
// driver and PGlite; the same conformance suite proves both.
import type {
  Agent,
  AppDefinition,
  Deployment,
  Grant,
  Instance,
  GroupRecord,
  RolePolicy,
  TaskFailure,
} from '../domain/index.js';

export interface AppRepository {
  /** Stores `app` as the current definition of `app.id` and records it as version `app.version`. Idempotent. */
  put(app: AppDefinition): Promise<void>;
  /** `put` of several apps in one statement (group commit); the last of an id wins. */
  putMany(apps: AppDefinition[]): Promise<void>;
  get(id: string): Promise<AppDefinition | undefined>;
  /** Every current app, ordered by id. */
  list(): Promise<AppDefinition[]>;
  /** Removes the app and all its versions; false when it did not exist. */
  delete(id: string): Promise<boolean>;
  /** Version timestamps of an app, newest first (empty when unknown). */
  versions(id: string): Promise<string[]>;
  getVersion(id: string, version: string): Promise<AppDefinition | undefined>;
  /** Records the latest failed task of `failure.appId` (replacing the previous one). */
  setLastTaskFailure(failure: TaskFailure): Promise<void>;
  /** The latest failed task of an app; removed with the app. */
  getLastTaskFailure(appId: string): Promise<TaskFailure | undefined>;
}

/**
 * Rows that `instances.putMany` and `events.appendMany` write in one statement (one JSON
 * parameter each, a few MiB at most). A call within them is one statement, which a
 * `writeTogether` can send with others.
 */
export const INSTANCES_PER_STATEMENT = 5000;
export const EVENTS_PER_STATEMENT = 1000;

export interface InstanceRepository {
  /** Inserts or replaces by `instanceId`. */
  put(instance: Instance): Promise<void>;
  /** Several at once: one statement per `INSTANCES_PER_STATEMENT`. */
  putMany(instances: Instance[]): Promise<void>;
  get(instanceId: string): Promise<Instance | undefined>;
  listByApp(appId: string): Promise<Instance[]>;
  list(): Promise<Instance[]>;
  /** Idempotent. */
  delete(instanceId: string): Promise<void>;
}

export interface AgentRepository {
  /** Inserts or replaces by `agentId`. */
  put(agent: Agent): Promise<void>;
  get(agentId: string): Promise<Agent | undefined>;
  list(): Promise<Agent[]>;
  delete(agentId: string): Promise<void>;
  /** Puts the agent in maintenance since `since`, or (null) takes it out. Idempotent. */
  setDrain(agentId: string, since: string | null): Promise<void>;
  /** Agents in maintenance: agent id → since. */
  listDrains(): Promise<Map<string, string>>;
}

export interface DeploymentRepository {
  /** Inserts or replaces by `id`. */
  put(deployment: Deployment): Promise<void>;
  get(id: string): Promise<Deployment | undefined>;
  /** `put` of several deployments in one statement; the last of an id wins. */
  putMany(deployments: Deployment[]): Promise<void>;
  /** Ordered by creation time. */
  list(): Promise<Deployment[]>;
  /** Idempotent. */
  delete(id: string): Promise<void>;
  /** `delete` of several in one statement. Idempotent. */
  deleteMany(ids: string[]): Promise<void>;
}

export interface ArtifactMeta {
  /** `sha256:<hex>` */
  digest: string;
  size: number;
  createdAt: string;
  /** The principal whose upload stored it; absent for artifacts stored before uploaders. */
  uploader?: string;
}

export interface ArtifactRepository {
  /** Stores bytes under their digest once: a second put keeps the first row and uploader. */
  put(artifact: { digest: string; bytes: Uint8Array; uploader?: string }): Promise<ArtifactMeta>;
  get(digest: string): Promise<(ArtifactMeta & { bytes: Uint8Array }) | undefined>;
  list(): Promise<ArtifactMeta[]>;
  /** Bytes of the artifacts `uploader` stored (its quota's use). */
  bytesOf(uploader: string): Promise<number>;
  /** Removes the artifact; false when it did not exist. */
  delete(digest: string): Promise<boolean>;
  /** Digests named anywhere in a stored app version (`sha256:<hex>` in its JSON). */
  referenced(): Promise<Set<string>>;
  /**
   * Removes the artifact unless a stored app version names it, checked in the same statement;
   * false when it was kept or did not exist.
   */
  deleteUnreferenced(digest: string): Promise<boolean>;
}

export interface StoredEvent {
  /** Increasing id; `Last-Event-ID` resumes after it. */
  id: number;
  eventType: string;
  /** The event's JSON body, including `eventType` and `timestamp`. */
  payload: Record<string, unknown>;
}

export interface EventRepository {
  append(event: { eventType: string; payload: Record<string, unknown> }): Promise<StoredEvent>;
  /**
   * Several in one round trip (one statement per `EVENTS_PER_STATEMENT`): ids increase in the order given, and
   * the stored events come back in that order.
   */
  appendMany(
    events: { eventType: string; payload: Record<string, unknown> }[],
  ): Promise<StoredEvent[]>;
  /** Events with id > `afterId`, oldest first, at most `limit`. */
  since(afterId: number, limit: number): Promise<StoredEvent[]>;
  /** Deletes all but the newest `keep` events. */
  trim(keep: number): Promise<void>;
}

/** Who holds a lease, in which term. */
export interface LeaseHolder {
  holder: string;
  /** Raised each time the lease changes hands. */
  term: number;
}

/** Leases timed by the database's clock, so masters whose clocks disagree still agree on expiry. */
export interface LeaseRepository {
  /**
   * Takes or renews lease `name` for `holder` for `ttlMs` from the database's now, when it is
   * free, expired or already held by `holder`. Returns the holder after the attempt (atomic);
   * the term rises when the lease changes hands.
   */
  acquire(options: { name: string; holder: string; ttlMs: number }): Promise<LeaseHolder>;
  /** Ends the lease at once if `holder` holds it (its term is kept: terms never go back). */
  release(options: { name: string; holder: string }): Promise<void>;
  /** Current unexpired holder, if any. */
  holder(options: { name: string }): Promise<LeaseHolder | undefined>;
  /**
   * True when `holder` holds lease `name` in `term`, unexpired. Inside a transaction the row is
   * then locked (FOR KEY SHARE) until it ends: nobody can take the lease before it commits (its
   * holder still renews it meanwhile).
   */
  holds(options: { name: string; holder: string; term: number }): Promise<boolean>;
  /**
   * `holds` that fails in the database when the lease is not held, aborting the transaction: for
   * one whose COMMIT is sent before the answer comes (`writeTogether`), where `false` would come
   * too late.
   */
  requireHeld(options: { name: string; holder: string; term: number }): Promise<void>;
}

/** A principal as stored: the secret only as its hash. */
export interface StoredPrincipal {
  name: string;
  /** An opaque hash of the secret (api/auth decides the format). */
  secretHash: string;
  grants: Grant[];
  createdAt: string;
}

export interface PrincipalRepository {
  /**
   * Inserts the principal unless one of that name exists (INSERT … ON CONFLICT DO NOTHING):
   * true when this call created it. Concurrent creations of one name: exactly one gets true.
   */
  create(principal: Omit<StoredPrincipal, 'createdAt'>): Promise<boolean>;
  get(name: string): Promise<StoredPrincipal | undefined>;
  /** Every principal, ordered by name. */
  list(): Promise<StoredPrincipal[]>;
  /** Removes the principal; false when it did not exist. */
  delete(name: string): Promise<boolean>;
}

/** A joined agent's identity (agent-identity-repository.ts). */
export interface AgentCredential {
  agentId: string;
  hostname: string;
  /** SHA-256 (hex) of its Redis password, the form `ACL SETUSER … #<hash>` takes. */
  passwordSha256: string;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms; set once revoked. */
  revokedAt?: number;
}

export interface AgentIdentityRepository {
  /** Stores a join token by its hash. */
  putJoinToken(token: { tokenSha256: string; hostname: string; expiresAt: number }): Promise<void>;
  /**
   * Marks the token used by `agentId` if it is unused and unexpired at `now`; atomic, so of two
   * agents racing with one token only one wins. Returns the token's hostname, or undefined.
   */
  useJoinToken(options: {
    tokenSha256: string;
    now: number;
    agentId: string;
  }): Promise<{ hostname: string } | undefined>;
  putCredential(credential: AgentCredential): Promise<void>;
  getCredential(agentId: string): Promise<AgentCredential | undefined>;
  /** Every credential, revoked ones included, ordered by agent id. */
  listCredentials(): Promise<AgentCredential[]>;
  /** Sets `revokedAt` once; false when there is no such credential. */
  revokeCredential(agentId: string, at: number): Promise<boolean>;
}

/** A secret's name and version: what may be listed (never the value). */
export interface SecretMeta {
  path: string;
  version: number;
  updatedAt: string;
}

export interface SecretRepository {
  /** Writes the sealed value of `path` (insert, or replace with version + 1), atomically. */
  put(path: string, sealed: Uint8Array): Promise<SecretMeta>;
  get(path: string): Promise<(SecretMeta & { sealed: Uint8Array }) | undefined>;
  /** Every secret's name and version, ordered by path. */
  list(): Promise<SecretMeta[]>;
  /** Removes the secret; false when it did not exist. */
  delete(path: string): Promise<boolean>;
}

export interface RolePolicyRepository {
  /** Inserts or replaces the policy of `policy.role`; one with neither quota nor weight is deleted. */
  put(policy: RolePolicy): Promise<void>;
  /** Every policy, ordered by role. */
  list(): Promise<RolePolicy[]>;
}

export interface GroupRepository {
  /** Stores the record of `record.id` (insert or replace); one with `enforceRole` false is deleted. */
  put(record: GroupRecord): Promise<void>;
  /** Every record, ordered by id. */
  list(): Promise<GroupRecord[]>;
}

/** The followed state (apps, instances, deployments, role policies, drains) read at one instant. */
export interface StateChanges {
  /** Give it to the next `since`: every transaction below it had ended at this read. */
  cursor: number;
  /** Everything, not what changed (no cursor, or one older than the removals kept). */
  isWhole: boolean;
  /** Apps written since the cursor (all when whole), as they are now. */
  apps: AppDefinition[];
  instances: Instance[];
  /** Every running deployment in creation order; absent when none changed since the cursor. */
  deployments?: Deployment[];
  roles: RolePolicy[];
  /** Agent id → drained since. */
  drains: Map<string, string>;
  /** Keys removed since the cursor and not there now. */
  removed: {
    apps: string[];
    instances: string[];
    deployments: string[];
    roles: string[];
    drains: string[];
  };
}

/** What changed in the state, for warm standbys (written by triggers, not by callers). */
export interface StateChangeRepository {
  /**
   * The state changed since `cursor` (the `cursor` of an earlier read), or all of it without
   * one; read in one snapshot. Rows may come again in the next read: applying is idempotent.
   */
  since(cursor?: number): Promise<StateChanges>;
  /** Drops removal records older than `olderThanMs`; cursors older than them then read all. */
  trim(olderThanMs: number): Promise<void>;
}

export interface Store {
  apps: AppRepository;
  instances: InstanceRepository;
  agents: AgentRepository;
  deployments: DeploymentRepository;
  artifacts: ArtifactRepository;
  events: EventRepository;
  leases: LeaseRepository;
  principals: PrincipalRepository;
  agentIdentities: AgentIdentityRepository;
  secrets: SecretRepository;
  rolePolicies: RolePolicyRepository;
  groups: GroupRepository;
  stateChanges: StateChangeRepository;
  /** Runs `fn` in one transaction; the store it receives writes inside it. */
  transaction<T>(fn: (store: Store) => Promise<T>): Promise<T>;
  /**
   * Runs `statements` in one transaction, all started at once: each is one SQL statement that
   * waits for no other's answer. On Postgres BEGIN, the statements and COMMIT go out together
   * (one round trip; store/pipelined-client.ts); a failure of any stores none.
   */
  writeTogether(statements: ((store: Store) => Promise<unknown>)[]): Promise<void>;
  close(): Promise<void>;
}
