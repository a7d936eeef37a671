// Writes a batch's draft to the store: one transaction, or one statement alone when that is all
// the batch holds (a statement is atomic by itself; BEGIN and COMMIT would double its trips).
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
  const statements: ((db: Store) => Promise<unknown>)[] = [];
  if (deleteDeployments.length > 0)
    statements.push((db) => db.deployments.deleteMany(deleteDeployments));
  for (const id of draft.removedApps) statements.push((db) => db.apps.delete(id));
  for (const id of deleteInstances) statements.push((db) => db.instances.delete(id));
  if (draft.appVersions.length > 0) statements.push((db) => db.apps.putMany(draft.appVersions));
  if (putDeployments.length > 0) statements.push((db) => db.deployments.putMany(putDeployments));
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
    for (const statement of statements) await statement(db);
  });
}
