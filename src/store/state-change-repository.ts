// What changed in the leader's state since a cursor, for warm standbys (master/applier/standby.ts).
// Triggers (drizzle/0009_state_changes.sql) stamp every written row of the followed tables with
// its transaction id and record every removed key; a read takes the ids of one snapshot.
//
// The cursor is the snapshot's xmin: every transaction below it had ended, so its writes were
// in that read; a transaction at or above it may have committed after, so the next read takes
// rows stamped at or above it again (reading a row twice is harmless; missing one is not).
import { and, eq, gte, sql } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { AppDefinition, Instance } from '../domain/index.js';
import { createAgentRepository } from './agent-repository.js';
import { createAppRepository } from './app-repository.js';
import type { Database } from './database.js';
import { decodeRecord } from './decode.js';
import { rowsOf } from './json-rows.js';
import { createDeploymentRepository } from './deployment-repository.js';
import { createInstanceRepository } from './instance-repository.js';
import { createRolePolicyRepository, policyOfRow } from './role-policy-repository.js';
import {
  agentDrains,
  apps,
  deployments,
  instances,
  rolePolicies,
  stateChangeHorizon,
  stateRemovals,
} from './schema.js';
import type { StateChangeRepository, StateChanges } from './store.js';

/** The followed tables, by the name the removal trigger records (`TG_TABLE_NAME`). */
const TABLES = {
  apps: { table: apps, key: apps.id },
  instances: { table: instances, key: instances.instanceId },
  deployments: { table: deployments, key: deployments.id },
  role_policies: { table: rolePolicies, key: rolePolicies.role },
  agent_drains: { table: agentDrains, key: agentDrains.agentId },
} as const;

/** The state change repository on `db` (a database, never a transaction: it opens its own). */
export function createStateChangeRepository(options: { db: Database }): StateChangeRepository {
  const { db } = options;

  /** Keys removed at or after `cursor` that are not there now (removed, maybe put back). */
  async function removed(tx: Database, name: keyof typeof TABLES, cursor: number) {
    const { table, key } = TABLES[name];
    const rows = await tx
      .select({ key: stateRemovals.key })
      .from(stateRemovals)
      .where(
        and(
          sql`${stateRemovals.tableName} = ${name}`,
          gte(stateRemovals.changeXid, cursor),
          sql`not exists (select 1 from ${table as PgTable} where ${key as PgColumn} = ${stateRemovals.key})`,
        ),
      );
    return [...new Set(rows.map((row) => row.key))];
  }

  async function whole(tx: Database, cursor: number): Promise<StateChanges> {
    const [appList, instanceList, deploymentList, roles, drains] = await Promise.all([
      createAppRepository({ db: tx, isTransaction: true }).list(),
      createInstanceRepository({ db: tx }).list(),
      createDeploymentRepository({ db: tx }).list(),
      createRolePolicyRepository({ db: tx }).list(),
      createAgentRepository({ db: tx }).listDrains(),
    ]);
    return {
      cursor,
      isWhole: true,
      apps: appList,
      instances: instanceList,
      deployments: deploymentList,
      roles,
      drains,
      removed: { apps: [], instances: [], deployments: [], roles: [], drains: [] },
    };
  }

  async function since(tx: Database, from: number, cursor: number): Promise<StateChanges> {
    // One at a time: a transaction is one connection, and postgres-js queues them anyway.
    const appRows = await tx.select().from(apps).where(gte(apps.changeXid, from));
    const instanceRows = await tx.select().from(instances).where(gte(instances.changeXid, from));
    const changedDeployments = await tx
      .select({ id: deployments.id })
      .from(deployments)
      .where(gte(deployments.changeXid, from));
    const roleRows = await tx.select().from(rolePolicies).where(gte(rolePolicies.changeXid, from));
    const drainRows = await tx.select().from(agentDrains).where(gte(agentDrains.changeXid, from));
    const removedDeployments = await removed(tx, 'deployments', from);
    // Running deployments are few and ordered by creation: any change, and all are read again,
    // so the order is the store's even when transactions commit out of order.
    const isDeploymentChange = changedDeployments.length > 0 || removedDeployments.length > 0;
    return {
      cursor,
      isWhole: false,
      apps: appRows.map((row) =>
        decodeRecord<AppDefinition>({
          table: 'apps',
          value: row.definition,
          keyField: 'id',
          key: row.id,
        }),
      ),
      instances: instanceRows.map((row) =>
        decodeRecord<Instance>({
          table: 'instances',
          value: row.data,
          keyField: 'instanceId',
          key: row.instanceId,
        }),
      ),
      ...(isDeploymentChange && {
        deployments: await createDeploymentRepository({ db: tx }).list(),
      }),
      roles: roleRows.map(policyOfRow),
      drains: new Map(drainRows.map((row) => [row.agentId, row.since])),
      removed: {
        apps: await removed(tx, 'apps', from),
        instances: await removed(tx, 'instances', from),
        deployments: removedDeployments,
        roles: await removed(tx, 'role_policies', from),
        drains: await removed(tx, 'agent_drains', from),
      },
    };
  }

  return {
    async since(from) {
      // One snapshot for the cursor and every read: what is read is the state at one instant.
      return db.transaction(
        async (tx) => {
          const [snapshot] = rowsOf(
            await tx.execute(sql`
            select pg_snapshot_xmin(pg_current_snapshot())::text as xmin,
              (select ${stateChangeHorizon.belowXid} from ${stateChangeHorizon}
                where ${stateChangeHorizon.id} = 1)::text as below`),
          );
          if (!snapshot) throw new Error('No snapshot of the state changes');
          const cursor = Number(snapshot.xmin);
          const below = Number(snapshot.below ?? 0);
          // Removals below the horizon may be gone: a cursor below it reads everything.
          if (from === undefined || from < below) return whole(tx, cursor);
          return since(tx, from, cursor);
        },
        { isolationLevel: 'repeatable read', accessMode: 'read only' },
      );
    },

    async trim(olderThanMs) {
      await db.transaction(async (tx) => {
        const gone = await tx
          .delete(stateRemovals)
          .where(
            sql`${stateRemovals.removedAt} < now() - ${olderThanMs} * interval '1 millisecond'`,
          )
          .returning({ changeXid: stateRemovals.changeXid });
        if (gone.length === 0) return;
        const below = gone.reduce((most, row) => Math.max(most, row.changeXid), 0) + 1;
        await tx
          .update(stateChangeHorizon)
          .set({ belowXid: sql`greatest(${stateChangeHorizon.belowXid}, ${below})` })
          .where(eq(stateChangeHorizon.id, 1));
      });
    },
  };
}
