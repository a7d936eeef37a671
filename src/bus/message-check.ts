// What checks a message at the bus boundary, and the bounds shared by both directions: the
// master's zod schemas of what agents send (message-schemas.ts) and the agent's own check of its
// commands (command-schema.ts, without zod: an idle agent does not load it, issue 14).

/** The contract a consumer's `schema` meets; a zod schema does, and so does command-schema.ts. */
export interface MessageSchema<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: unknown };
}

/**
 * An agent id: also part of Redis key patterns and stream names, so no glob characters
 * (`* ? [ ] \`), no `:` (the stream separator) and bounded.
 */
export const AGENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** A task id's length in code points (it names files and Redis streams). */
export const TASK_ID_MAX_LENGTH = 1024;

/** The largest resource quantity (cpus, MiB) a message may carry. */
export const QUANTITY_MAX = 1e12;

/** The largest port number. */
export const PORT_MAX = 65_535;
