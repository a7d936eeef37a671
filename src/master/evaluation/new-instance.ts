// The instances a pass writes: new ones, next incarnations, placed ones. Ids of new instances
// derive from the pass's seed, so a pass replayed from its seed and snapshot names them alike.
import { createHash } from 'node:crypto';
import type { AppDefinition, Instance } from '../../domain/index.js';
import { safeAppId, toTimestamp } from '../../domain/index.js';
import type { Placement } from '../../scheduler/index.js';

/**
 * `<safeAppId>.instance-<uuid>`, the uuid taken from a hash of the seed and `n` (the how-many-th
 * new instance of the pass). Seeds are random per pass, so ids never repeat across passes.
 */
export function seededInstanceId(appId: string, seed: string, n: number): string {
  const hex = createHash('sha256').update(`${seed}/${n}`).digest('hex');
  // Shaped as a version 4 uuid, as Marathon's are.
  const uuid = [
    hex.slice(0, 8),
    hex.slice(8, 12),
    `4${hex.slice(13, 16)}`,
    `${((parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}`,
    hex.slice(20, 32),
  ].join('-');
  return `${safeAppId(appId)}.instance-${uuid}`;
}

/** A new instance waiting for an agent. */
export function newInstance(app: AppDefinition, instanceId: string, now: number): Instance {
  const at = toTimestamp(now);
  return {
    instanceId,
    appId: app.id,
    appVersion: app.version,
    goal: 'Running',
    condition: 'Scheduled',
    incarnation: 1,
    ports: [],
    resources: { cpus: app.cpus, memMiB: app.mem, diskMiB: app.disk },
    createdAt: at,
    conditionChangedAt: at,
    healthCheckResults: [],
    lastStatusSeq: 0,
    launchNotBefore: 0,
  };
}

/** The next incarnation of an ended instance, waiting for an agent (after `notBefore`). */
export function relaunched(
  instance: Instance,
  app: AppDefinition,
  context: { now: number; notBefore: number },
): Instance {
  return {
    ...instance,
    appVersion: app.version,
    condition: 'Scheduled',
    incarnation: instance.incarnation + 1,
    agentId: undefined,
    host: undefined,
    ports: [],
    reservationRole: undefined,
    stagedAt: undefined,
    startedAt: undefined,
    conditionChangedAt: toTimestamp(context.now),
    healthCheckResults: [],
    readinessCheckResults: undefined,
    lastStatusSeq: 0,
    launchNotBefore: context.notBefore,
  };
}

/** A waiting instance given its agent: Provisioned until the agent reports it. */
export function placed(
  instance: Instance,
  app: AppDefinition,
  context: { placement: Placement; now: number },
): Instance {
  const { placement, now } = context;
  return {
    ...instance,
    appVersion: app.version,
    condition: 'Provisioned',
    agentId: placement.agentId,
    host: placement.hostname,
    ports: placement.ports,
    role: placement.role,
    reservationRole: placement.reservationRole,
    stagedAt: toTimestamp(now),
    conditionChangedAt: toTimestamp(now),
  };
}
