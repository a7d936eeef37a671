// What checks a message at the bus boundary, and the bounds shared by both directions: the
// master's zod schemas of what agents send (message-schemas.ts), the agent's own check of its
// commands (command-schema.ts, without zod: an idle agent does not load it, issue 14), and the
// master's hand-written check of the status stream (status-check.ts, its hottest). The pieces
// the hand-written checks share are here.
import { hasCodePointsBetween } from '../lib/index.js';

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

/** Why a value fails (`path: what it should be`); thrown inside a check, caught at its top. */
export class MessageCheckError extends Error {
  override readonly name = 'MessageCheckError';
}

export type Path = readonly (string | number)[];

export function fail(path: Path, expected: string): never {
  throw new MessageCheckError(`${path.join('.') || 'message'}: expected ${expected}`);
}

/** A non-null, non-array object (zod's object and record). */
export function objectAt(value: unknown, path: Path): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'an object');
  return value as Record<string, unknown>;
}

/** A task id: a string of 1 to TASK_ID_MAX_LENGTH code points. */
export function isTaskId(value: unknown): value is string {
  return typeof value === 'string' && hasCodePointsBetween(value, 1, TASK_ID_MAX_LENGTH);
}

export function taskIdAt(value: unknown, path: Path): string {
  if (!isTaskId(value)) fail(path, `a task id (1 to ${TASK_ID_MAX_LENGTH} characters)`);
  return value;
}

/** A whole number (a safe integer, so finite) of at least `min` (zod's `int()`). */
export function isWhole(value: unknown, min = Number.MIN_SAFE_INTEGER): value is number {
  return Number.isSafeInteger(value) && (value as number) >= min;
}

/** `value` when it is whole and at least `min`; else fails at `path`. */
export function wholeAt(value: unknown, path: Path, min = Number.MIN_SAFE_INTEGER): number {
  if (!isWhole(value, min)) fail(path, min === 0 ? 'a whole number ≥ 0' : 'a whole number');
  return value;
}

export function oneOfAt<T extends string>(value: unknown, allowed: readonly T[], path: Path): T {
  if (!allowed.includes(value as T)) fail(path, `one of ${allowed.join(', ')}`);
  return value as T;
}

/** A `MessageSchema` from a check that returns the message or throws `MessageCheckError`. */
export function handWritten<T>(check: (value: unknown) => T): MessageSchema<T> {
  return {
    safeParse(value) {
      try {
        return { success: true, data: check(value) };
      } catch (error) {
        if (error instanceof MessageCheckError) return { success: false, error };
        throw error;
      }
    },
  };
}
