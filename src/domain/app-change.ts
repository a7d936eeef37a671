// A change to the set of apps as the API hands it to the orchestrator, and how tasks are killed.
import type { AppDefinition } from './app.js';
import type { MarathonEvent } from './marathon-event.js';
import type { GroupRecord } from './roles.js';

/** An app as the API hands it to the orchestrator: everything but the server-stamped version. */
export type AppSpec = Omit<AppDefinition, 'version' | 'versionInfo'>;

/** A change to the set of apps, already validated and normalized by the API. */
export interface AppChange {
  /** Apps to create or replace, as wanted; `version`/`versionInfo` are ignored and stamped by the orchestrator. */
  apps: AppSpec[];
  /** Ids of apps to remove (their instances are killed). */
  remove?: string[];
  /** Ids of apps to restart (new `lastConfigChangeAt`, rolling replacement). */
  restart?: string[];
  /** The apps are created (`POST /v2/apps`): one that exists already is a `ConflictError`. */
  isCreation?: boolean;
  /** Records of top-level groups stored with the change (`enforceRole` false: removed). */
  groups?: GroupRecord[];
  /**
   * Events told of the change (the API's `api_post_event`), made from the apps as stored and
   * stored in the change's own write after its deployment events: a second write of their own
   * cost every burst of POSTs one more transaction.
   */
  announce?: (stored: readonly AppDefinition[]) => Omit<MarathonEvent, 'timestamp'>[];
}

/** How `DELETE …/tasks` kills: lower the app's instances, remove the instances, skip the grace. */
export interface KillOptions {
  scale: boolean;
  wipe: boolean;
  force: boolean;
}
