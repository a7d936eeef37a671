// The two zod registries the OpenAPI document is built from: request schemas (rendered as
// input: unknown fields allowed, as Marathon ignores them) and response schemas (rendered as
// output: closed objects, since responses hold only Marathon's fields).
import { z } from 'zod';

/** What a registered schema carries into the document. */
export interface SchemaMeta {
  /** Component name under `#/components/schemas/`. */
  id: string;
  description?: string;
}

/** Schemas of request bodies; the same schemas validate the requests. */
export const requestSchemas = z.registry<SchemaMeta>();

/** Schemas of response bodies; contract tests check every response against them. */
export const responseSchemas = z.registry<SchemaMeta>();
