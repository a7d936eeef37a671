// Writes a batch's draft to the store: one transaction, or one statement alone when that is all
// the batch holds (a statement is atomic by itself; BEGIN and COMMIT would double its trips).
// Inside the transaction, consecutive statements that are one statement each and touch rows no
// other statement of the batch touches go out together: the driver sends them (and the fence's
// lease check) in one write, one round trip, instead of one after the other. A burst of POSTs
// writes apps and deployments that way: three round trips (BEGIN, writes, COMMIT), not four.
import type { Deployment, Instance } from '../../domain/index.js';
import type { Store } from '../../store/index.js';
import type { Draft } from './state.js';

export async function persistDraft(store: Store, draft: Draft): Promise<void> {
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
  if (putInstances.length > 0) statements.push((db) => db.instances.putMany(putInstances));
  for (const failure of failures) statements.push((db) => db.apps.setLastTaskFailure(failure));
  for (const [role, policy] of draft.roles)
    statements.push((db) => db.rolePolicies.put(policy ?? { role }));
  for (const [agentId, since] of draft.drains)
    statements.push((db) => db.agents.setDrain(agentId, since));
  for (const record of draft.groups.values()) statements.push((db) => db.groups.put(record));

  const [only] = statements;
  if (statements.length === 0) return;
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
