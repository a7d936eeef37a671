// Feasibility: the agent's operator allows the host volumes and docker parameters the app uses.
import { ungrantedHostAccess } from '../../domain/index.js';
import type { FeasibilityChecker } from './checker.js';
import { reject } from './checker.js';

/**
 * Refuses an agent that does not grant every absolute host volume (at or below an allowed
 * directory, read-only when the grant is) and every docker parameter key of the app. Such an
 * instance waits in `/v2/queue` with `UnfulfilledHostAccess` until an agent that allows them
 * offers, rather than failing at start on every agent.
 */
export const checkHostAccess: FeasibilityChecker = (agent, ctx) =>
  ctx.hostAccessNeeds === undefined ||
  ungrantedHostAccess(ctx.hostAccessNeeds, agent.agent.hostAccess) === undefined ||
  reject(ctx, 'UnfulfilledHostAccess');
