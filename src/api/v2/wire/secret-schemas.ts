// Pacer's secrets API in JSON: the write body (`{"value"}`), the answer to a write and the list
// (names and versions, never values).
import { z } from 'zod';
import { requestSchemas, responseSchemas } from '../../openapi/registry.js';

/** Largest secret value in bytes of UTF-8. */
export const MAX_SECRET_BYTES = 64 * 1024;

/**
 * A secret's path: segments of letters, digits, `_`, `-` and `.` (not `.` or `..` alone) joined
 * by `/`, at most 256 characters (`team-a/db-password`).
 */
export const SECRET_PATH =
  /^(?!.{257})(?!(?:.*\/)?\.{1,2}(?:\/|$))[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)*$/;

export const SecretWriteSchema = z.object({ value: z.string() }).strict().register(requestSchemas, {
  id: 'SecretWrite',
  description: 'The value of a secret (write-only: no route ever answers it).',
});

export const SecretVersionSchema = z
  .object({ path: z.string(), version: z.number().int() })
  .register(responseSchemas, { id: 'SecretVersion', description: 'The version a write made.' });

export const SecretListSchema = z
  .object({
    secrets: z.array(
      z.object({
        path: z.string(),
        version: z.number().int(),
        updatedAt: z.string(),
      }),
    ),
  })
  .register(responseSchemas, {
    id: 'SecretList',
    description: 'The secrets the caller may view: names and versions only.',
  });
