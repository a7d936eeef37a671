// Writes a batch's draft and its events to the store. A draft of statements that are one
// statement each and touch rows no other statement of the batch touches (the usual burst of
// POSTs: apps and deployments put; a pass placing instances; status updates) goes out as one
// `writeTogether`: BEGIN, the fence's lease check, the writes and COMMIT in one round trip. Any
// other draft: one statement alone when that is all it holds (atomic by itself), else one
// transaction in which consecutive such statements still go out together.
import type { Deployment, Instance } from '../../domain/index.js';
import type { Store } from '../../store/index.js';
import { EVENTS_PER_STATEMENT, INSTANCES_PER_STATEMENT } from '../../store/index.js';
import type { StagedEvents } from '../services.js';
import type { Draft } from './state.js';

/** Stores `draft` and `events` (the events of its intents) in one write. */
export async function persistDraft(
  store: Store,
  draft: Draft,
  events: Pick<StagedEvents, 'append' | 'count'>,
): Promise<void> {
  const putInstances: Instance[] = [];
  const deleteInstances: string[] = [];
  for (const [id, record] of draft.instances) {
    if (record) putInstances.push(record.value);
    else deleteInstances.push(id);
  }
  const putDeployments: Deployment[] = [];
  const deleteDeployments: string[] = [];
  for (const [id, record] of draft.deployments) {
    if (record) putDeployments.push(record.value);
    else deleteDeployments.push(id);
  }
  const failures = [...draft.failures.values()];
  type Statement = ((db: Store) => Promise<unknown>) & { pipelined?: true };
  const statements: Statement[] = [];
  /** One statement each, on rows no other statement of the draft writes: sent together. */
  const pipelined = (statement: Statement): Statement =>
    Object.assign(statement, { pipelined: true as const });
  if (deleteDeployments.length > 0)
    statements.push(pipelined((db) => db.deployments.deleteMany(deleteDeployments)));
  for (const id of draft.removedApps) statements.push((db) => db.apps.delete(id));
  for (const id of deleteInstances) statements.push((db) => db.instances.delete(id));
  // A batch writes each app once (applier.ts `takeBatch`), and removed ones before any put.
  if (draft.appVersions.length > 0)
    statements.push(pipelined((db) => db.apps.putMany(draft.appVersions)));
  if (putDeployments.length > 0)
    statements.push(pipelined((db) => db.deployments.putMany(putDeployments)));
  if (putInstances.length > 0) {
    const put: Statement = (db) => db.instances.putMany(putInstances);
    statements.push(putInstances.length <= INSTANCES_PER_STATEMENT ? pipelined(put) : put);
  }
  for (const failure of failures) statements.push((db) => db.apps.setLastTaskFailure(failure));
  for (const [role, policy] of draft.roles)
    statements.push((db) => db.rolePolicies.put(policy ?? { role }));
  for (const [agentId, since] of draft.drains)
    statements.push((db) => db.agents.setDrain(agentId, since));
  for (const record of draft.groups.values()) statements.push((db) => db.groups.put(record));
  // The events: their own table, appended in the same write.
  if (events.count > 0) {
    const append: Statement = (db) => events.append(db);
    statements.push(events.count <= EVENTS_PER_STATEMENT ? pipelined(append) : append);
  }

  const [only] = statements;
  if (statements.length === 0) return;
  // The usual batch (apps and deployments put, or deployments deleted): BEGIN, the lease check,
  // the writes and COMMIT in one round trip.
  if (statements.every((statement) => statement.pipelined)) {
    await store.writeTogether(statements);
    return;
  }
  if (statements.length === 1 && only) {
    await only(store);
    return;
  }
  await store.transaction(async (db) => {
    for (let i = 0; i < statements.length;) {
      const together: Statement[] = [];
      while (statements[i]?.pipelined) together.push(statements[i++] as Statement);
      if (together.length === 0) together.push(statements[i++] as Statement);
      // In order on the transaction's one connection; a failure fails the transaction.
      await Promise.all(together.map((statement) => statement(db)));
    }
  });
}
