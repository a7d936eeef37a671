// Pacer's quota and weights API in JSON (`/v2/quota/{role}`, `/v2/weights/{role}`): resources in
// Marathon's names (`cpus`, `mem` and `disk` in MiB), quota as Mesos 1.9+ (guarantees, limits).
import { z } from 'zod';
import type { Quota, RolePolicy, ScalarResources } from '../../../domain/index.js';
import { requestSchemas, responseSchemas } from '../../openapi/registry.js';

/** Largest amount accepted: beyond any cluster, and keeps sums finite. */
const MAX_AMOUNT = 1e12;
const amount = z.number().finite().nonnegative().max(MAX_AMOUNT).optional();

const QuotaResourcesSchema = z
  .object({ cpus: amount, mem: amount, disk: amount })
  .strict()
  .meta({ description: 'Amounts per resource: `cpus`, `mem` and `disk` (MiB); absent: none.' });

export const QuotaWriteSchema = z
  .object({ guarantees: QuotaResourcesSchema.optional(), limits: QuotaResourcesSchema.optional() })
  .strict()
  .register(requestSchemas, {
    id: 'QuotaWrite',
    description:
      'A role’s quota: `guarantees` are held for it (placed before any other role grows), `limits` are never exceeded.',
  });

export const QuotaSchema = z
  .object({
    role: z.string(),
    guarantees: QuotaResourcesSchema,
    limits: QuotaResourcesSchema,
  })
  .register(responseSchemas, { id: 'Quota', description: 'A role’s quota.' });

export const QuotaListSchema = z
  .object({ quotas: z.array(QuotaSchema) })
  .register(responseSchemas, { id: 'QuotaList', description: 'Every role with a quota.' });

export const WeightWriteSchema = z
  .object({ weight: z.number().finite().positive().max(1e6) })
  .strict()
  .register(requestSchemas, {
    id: 'WeightWrite',
    description:
      'A role’s DRF weight: a role with weight 2 gets twice the dominant share of one with 1.',
  });

export const WeightSchema = z
  .object({ role: z.string(), weight: z.number() })
  .register(responseSchemas, { id: 'Weight', description: 'A role’s weight (1 unless set).' });

export const WeightListSchema = z
  .object({ weights: z.array(WeightSchema) })
  .register(responseSchemas, { id: 'WeightList', description: 'Every role with a weight set.' });

type WireResources = z.output<typeof QuotaResourcesSchema>;

function toDomain(wire: WireResources | undefined): Partial<ScalarResources> {
  const out: Partial<ScalarResources> = {};
  if (wire?.cpus !== undefined) out.cpus = wire.cpus;
  if (wire?.mem !== undefined) out.memMiB = wire.mem;
  if (wire?.disk !== undefined) out.diskMiB = wire.disk;
  return out;
}

function toWire(resources: Partial<ScalarResources>): WireResources {
  const out: WireResources = {};
  if (resources.cpus !== undefined) out.cpus = resources.cpus;
  if (resources.memMiB !== undefined) out.mem = resources.memMiB;
  if (resources.diskMiB !== undefined) out.disk = resources.diskMiB;
  return out;
}

/** The domain quota of a write; `violations` name a guarantee above its limit (Mesos refuses it). */
export function toQuota(wire: z.output<typeof QuotaWriteSchema>): {
  quota: Quota;
  violations: { path: string; errors: string[] }[];
} {
  const quota = { guarantees: toDomain(wire.guarantees), limits: toDomain(wire.limits) };
  const violations = [];
  for (const key of ['cpus', 'mem', 'disk'] as const) {
    const guarantee = wire.guarantees?.[key];
    const limit = wire.limits?.[key];
    if (guarantee !== undefined && limit !== undefined && guarantee > limit)
      violations.push({
        path: `/guarantees/${key}`,
        errors: [`must not be greater than the limit (${limit})`],
      });
  }
  return { quota, violations };
}

export function toQuotaJson(role: string, policy: RolePolicy | undefined) {
  return {
    role,
    guarantees: toWire(policy?.quota?.guarantees ?? {}),
    limits: toWire(policy?.quota?.limits ?? {}),
  };
}
