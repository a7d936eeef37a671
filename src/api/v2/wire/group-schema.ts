// Zod schema of Marathon's GroupUpdate (RAML/v2/types/group.raml): a group with its apps and
// sub-groups, or only `{version}` (rollback) or `{scaleBy}`.
import { z } from 'zod';
import { requestSchemas } from '../../openapi/registry.js';
import { AppSchema } from './app-schema.js';
import type { WireApp } from './app-schema.js';

/** A GroupUpdate body as parsed. */
export interface WireGroup {
  id?: string;
  apps?: WireApp[];
  groups?: WireGroup[];
  dependencies?: string[];
  scaleBy?: number;
  version?: string;
  enforceRole?: boolean;
}

export const GroupUpdateSchema: z.ZodType<WireGroup> = z
  .object({
    id: z.string().optional(),
    apps: z.array(AppSchema).optional(),
    get groups(): z.ZodOptional<z.ZodArray<z.ZodType<WireGroup>>> {
      return z.array(GroupUpdateSchema).optional();
    },
    dependencies: z.array(z.string()).optional(),
    scaleBy: z.number().min(0).optional(),
    version: z.string().optional(),
    enforceRole: z.boolean().optional(),
  })
  .register(requestSchemas, {
    id: 'GroupUpdate',
    description: 'A group with its apps and sub-groups (ids relative to the group).',
  });

export const GroupPartialUpdateSchema = z
  .object({ enforceRole: z.boolean().optional() })
  .register(requestSchemas, { id: 'GroupPartialUpdate' });
