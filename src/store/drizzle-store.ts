// The Store over any drizzle Pg database: wires the repositories and runs transactions.
// Both createPostgresStore and createPgliteStore end here, so both run the same queries.
import { createAgentIdentityRepository } from './agent-identity-repository.js';
import { createAgentRepository } from './agent-repository.js';
import { createAppRepository } from './app-repository.js';
import { createArtifactRepository } from './artifact-repository.js';
import type { Database } from './database.js';
import { createDeploymentRepository } from './deployment-repository.js';
import { createEventRepository } from './event-repository.js';
import { createInstanceRepository } from './instance-repository.js';
import { createLeaseRepository } from './lease-repository.js';
import { createPrincipalRepository } from './principal-repository.js';
import { createGroupRepository } from './group-repository.js';
import { createRolePolicyRepository } from './role-policy-repository.js';
import { createSecretRepository } from './secret-repository.js';
import { createStateChangeRepository } from './state-change-repository.js';
import type { Store } from './store.js';

/**
 * A Store on `db`. `close` releases the driver; the stores handed to `transaction` callbacks
 * refuse to close (the outer store owns the connection).
 */
export function createDrizzleStore(options: {
  db: Database;
  close: () => Promise<void>;
  isTransaction?: boolean;
  /**
   * Runs the statements `issue` starts on a transaction's database, BEGIN and COMMIT sent with
   * them (`commitTogether` on Postgres); `transaction` with all of them at once when absent.
   */
  sendTogether?: (issue: (db: Database) => Promise<unknown>[]) => Promise<void>;
}): Store {
  const { db, close, isTransaction, sendTogether } = options;
  const inside = (tx: Database) =>
    createDrizzleStore({ db: tx, close: closeInsideTransaction, isTransaction: true });
  return {
    apps: createAppRepository({ db, isTransaction }),
    instances: createInstanceRepository({ db }),
    agents: createAgentRepository({ db }),
    deployments: createDeploymentRepository({ db }),
    artifacts: createArtifactRepository({ db }),
    events: createEventRepository({ db }),
    leases: createLeaseRepository({ db }),
    principals: createPrincipalRepository({ db }),
    agentIdentities: createAgentIdentityRepository({ db }),
    secrets: createSecretRepository({ db }),
    rolePolicies: createRolePolicyRepository({ db }),
    groups: createGroupRepository({ db }),
    stateChanges: createStateChangeRepository({ db }),
    transaction: (fn) => db.transaction((tx) => fn(inside(tx))),
    writeTogether: async (statements) => {
      const start = (tx: Database) => {
        const store = inside(tx);
        return statements.map((statement) => statement(store));
      };
      if (sendTogether) await sendTogether(start);
      else await db.transaction((tx) => Promise.all(start(tx)));
    },
    close,
  };
}

async function closeInsideTransaction(): Promise<void> {
  throw new Error('close() called on the store of a transaction; close the outer store instead');
}
