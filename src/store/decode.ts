// Checks on rows read back from the store: a row that does not hold what its key says fails
// loudly instead of travelling on as a half-valid domain object.

/** Thrown when a stored row cannot be decoded into its domain type. */
export class StoreDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreDecodeError';
  }
}

/**
 * Returns `value` as `T` when it is a JSON object whose `keyField` equals `key`; throws
 * `StoreDecodeError` otherwise (a string here means double-encoded or corrupt json).
 */
export function decodeRecord<T extends object>(options: {
  table: string;
  value: unknown;
  keyField: keyof T & string;
  key: string;
}): T {
  const { table, value, keyField, key } = options;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new StoreDecodeError(
      `${table} row '${key}' holds ${describe(value)}, expected an object`,
    );
  }
  const stored = (value as Record<string, unknown>)[keyField];
  if (stored !== key) {
    throw new StoreDecodeError(
      `${table} row '${key}' holds ${keyField} ${JSON.stringify(stored)}, expected the row key`,
    );
  }
  return value as T;
}

/** Returns `value` when it is a JSON object; throws `StoreDecodeError` otherwise. */
export function decodeObject(options: {
  table: string;
  value: unknown;
  key: string;
}): Record<string, unknown> {
  const { table, value, key } = options;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new StoreDecodeError(
      `${table} row '${key}' holds ${describe(value)}, expected an object`,
    );
  }
  return value as Record<string, unknown>;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
