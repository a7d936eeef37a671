// Inputs and outputs of `schedule()`: a snapshot of the cluster in, a plan of placements out.
import type { Agent, AppDefinition, Instance, RolePolicy } from '../domain/index.js';

/** Marathon's offer-rejection vocabulary (`/v2/queue` `rejectSummaryLastOffers[].reason`). */
export const RejectReason = [
  'UnfulfilledRole',
  'UnfulfilledConstraint',
  'NoCorrespondingReservationFound',
  'AgentMaintenance',
  'InsufficientCpus',
  'InsufficientMemory',
  'InsufficientDisk',
  'InsufficientGpus',
  'InsufficientPorts',
  'DeclinedScarceResources',
  // Pacer's own, in Marathon's style: the app's host volumes or docker parameters are not
  // among what the agent's operator allows (`--allow-host-volume`, `--allow-docker-parameter`).
  'UnfulfilledHostAccess',
  // Pacer's own, from quota (Mesos 1.9+): placing would take the app's role past its limit;
  // placing would eat into what is held back for other roles' unmet guarantees.
  'InsufficientQuota',
  'DeclinedQuotaGuarantee',
  // Pacer's own, from Dominant Resource Fairness: the instance would have fit on the agent at the
  // start of the placement round, and roles with a lower weighted dominant share, whose turn
  // came first, took those resources (fair-share-losses.ts).
  'DeclinedFairShare',
] as const;
export type RejectReason = (typeof RejectReason)[number];

export interface PlacementRequest {
  instanceId: string;
  app: AppDefinition;
}

export interface SchedulingSnapshot {
  /** Apps by id, for constraints that look at instances already placed. */
  apps: AppDefinition[];
  /** Every non-terminal instance; placed ones carry `agentId` and `host`. */
  instances: Instance[];
  /** Agents that may take work, with what is free on each. */
  agents: Agent[];
  /**
   * Instances waiting for an agent, highest priority first within a role. When requests of
   * several roles wait (or `rolePolicies` set quota), roles take turns by Dominant Resource
   * Fairness (fair-share.ts).
   */
  requests: PlacementRequest[];
  /** Quota and weights per role; roles not listed have weight 1 and no quota. */
  rolePolicies?: readonly RolePolicy[];
  /** epoch ms */
  now: number;
  /** Seeds tie-breaking; the same snapshot and seed give the same plan. */
  seed: string;
  /** Ranking: pack agents full first, or spread load. Default binpack. */
  algorithm?: 'binpack' | 'spread';
  /**
   * Feasible agents to score per request before taking the best. Default max(2, ⌈log2 n⌉)
   * (Nomad's); `Infinity` scores every agent (best fit, slower).
   */
  candidateLimit?: number;
}

export interface Placement {
  instanceId: string;
  appId: string;
  agentId: string;
  hostname: string;
  /** Host ports chosen from the agent's free ranges, one per port definition. */
  ports: number[];
  /** The role the instance is accounted to (its app's). */
  role: string;
  /** The role whose reservation on the agent it may use (consumed first); absent: none. */
  reservationRole?: string;
}

export interface Unplaced {
  instanceId: string;
  appId: string;
  /** How many agents refused this request, by reason. */
  reasons: Partial<Record<RejectReason, number>>;
  agentsEvaluated: number;
}

export interface Plan {
  placements: Placement[];
  unplaced: Unplaced[];
}
