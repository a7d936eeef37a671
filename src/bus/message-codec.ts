// Encoding of bus messages: one JSON field per stream entry, and the error for entries that do
// not decode (poison messages), which is reported rather than swallowed.
import type { MessageSchema } from './message-check.js';

/** The stream entry field that holds the JSON-encoded message. */
export const MESSAGE_FIELD = 'message';

/** An entry whose message field is missing, not JSON, or not a JSON object. */
export class BusDecodeError extends Error {
  override readonly name = 'BusDecodeError';
  /** Stream name (without the key prefix). */
  readonly stream: string;
  /** Id of the entry that failed to decode. */
  readonly entryId: string;

  constructor(options: { stream: string; entryId: string; reason: string; cause?: unknown }) {
    super(`cannot decode entry ${options.entryId} of stream ${options.stream}: ${options.reason}`, {
      cause: options.cause,
    });
    this.stream = options.stream;
    this.entryId = options.entryId;
  }
}

/** JSON text of a message; throws a TypeError for values JSON cannot carry (cycles, BigInt). */
export function encodeMessage(message: object): string {
  return JSON.stringify(message);
}

/**
 * Parses the JSON text of an entry into a message object. Throws `BusDecodeError` when the
 * text is missing, malformed, or not an object, or when `schema` rejects it (messages from
 * agents are checked this way; without a schema the shape is not checked further).
 */
export function decodeMessage<T>(
  json: string | undefined,
  where: { stream: string; entryId: string },
  schema?: MessageSchema<T>,
): T {
  if (json === undefined) {
    throw new BusDecodeError({ ...where, reason: `no "${MESSAGE_FIELD}" field` });
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (cause) {
    throw new BusDecodeError({ ...where, reason: 'malformed JSON', cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BusDecodeError({ ...where, reason: 'not a JSON object' });
  }
  if (!schema) return value as T;
  const checked = schema.safeParse(value);
  if (checked.success) return checked.data;
  throw new BusDecodeError({
    ...where,
    reason: `invalid message: ${String(checked.error).slice(0, 300)}`,
    cause: checked.error,
  });
}
