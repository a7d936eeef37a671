// What a writer asks of the applier: one atomic change to instances, apps and deployments,
// each part computed from a revision the writer read, and the events that tell of it.
import type {
  AppDefinition,
  Deployment,
  GroupRecord,
  Instance,
  Quota,
  TaskFailure,
} from '../../domain/index.js';
import type { EventInput } from '../services.js';

export type { EventInput };

/**
 * One change, applied whole or not at all. Every part that replaces or removes a record names
 * the revision of that record the writer computed it from: when the record moved since, the
 * intent is refused (a conflict) and the writer recomputes from the state it then finds.
 */
export interface Intent {
  /** Who asks (logs and conflict reports). */
  source: IntentSource;
  /** New instances: none of their ids may exist. */
  create?: Instance[];
  /** Instances as they should be, each with the revision it was computed from. */
  update?: { instance: Instance; revision: number }[];
  /** Instances to forget, each with the revision that decided it. */
  expunge?: { instanceId: string; revision: number }[];
  /**
   * Apps that must be at these versions when the intent applies (undefined: must not exist):
   * a placement computed for a version that a deploy replaced since must not launch.
   */
  requireApps?: { appId: string; version: string | undefined }[];
  /** Apps to store as current (and as a version of theirs). */
  apps?: AppDefinition[];
  /** Apps to delete, with their versions and last failure. */
  removeApps?: string[];
  /** New deployments. */
  startDeployments?: Deployment[];
  /** Deployments a step further, each with the revision it was computed from. */
  progress?: { deployment: Deployment; revision: number }[];
  /** Deployments whose last step is done, each with the revision that saw it done. */
  finishDeployments?: { id: string; revision: number }[];
  /** Deployments to delete (cancelled or replaced); one already gone is no conflict. */
  removeDeployments?: string[];
  /** The latest failed task of apps (one per app; a later one replaces it). */
  failures?: TaskFailure[];
  /**
   * Quota of roles to set (null: remove). Last writer wins, as a PUT does; each part of a role's
   * policy is set alone, so a quota and a weight written at once both hold.
   */
  quotas?: { role: string; quota: Quota | null }[];
  /** DRF weights of roles to set (null: back to 1). */
  weights?: { role: string; weight: number | null }[];
  /**
   * Agents put in maintenance (`since`) or taken out (null). No revision: the last asked wins,
   * and asking again is no change.
   */
  drains?: { agentId: string; since: string | null }[];
  /**
   * Records of top-level groups to store (`enforceRole` false: remove the record). No revision:
   * the last asked wins. Kept only in the store: the API reads them, placement never does (an
   * app's role is decided when it is stored).
   */
  groups?: GroupRecord[];
  /** Emitted, in this order, once the intent is stored and applied; never when refused. */
  events?: EventInput[];
}

export const IntentSource = [
  'evaluation',
  'status',
  'health',
  'liveness',
  'orchestrator',
  'readiness',
  'roles',
] as const;
export type IntentSource = (typeof IntentSource)[number];

/** What became of an intent. */
export type IntentResult =
  | { ok: true; /** The state revision that holds it. */ revision: number }
  | { ok: false; /** Why, one line per record that moved. */ conflicts: string[] };

/** True when the intent changes nothing (no write, no revision). */
export function isEmptyIntent(intent: Intent): boolean {
  return (
    !intent.create?.length &&
    !intent.update?.length &&
    !intent.expunge?.length &&
    !intent.apps?.length &&
    !intent.removeApps?.length &&
    !intent.startDeployments?.length &&
    !intent.progress?.length &&
    !intent.finishDeployments?.length &&
    !intent.removeDeployments?.length &&
    !intent.failures?.length &&
    !intent.quotas?.length &&
    !intent.weights?.length &&
    !intent.drains?.length &&
    !intent.groups?.length &&
    !intent.events?.length
  );
}
