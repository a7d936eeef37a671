// Zod issues → Marathon's error details: paths in play-json/wix-accord syntax (`/a/b(0)/c`),
// type errors as play-json keys (400 "Invalid JSON"), value errors as 422 "Object is not valid".
import type { z } from 'zod';
import { ValidationError, assertNever } from '../../../domain/index.js';
import type { Violation } from '../../../domain/index.js';
import { ApiError, ApiErrorCode } from '../../errors.js';

/** Marathon's path syntax: keys as `/key`, array indexes as `(n)`, the root as `/`. */
export function marathonPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `(${part})` : `/${String(part)}`;
  return out === '' ? '/' : out;
}

/** Groups violations by path, keeping the order they were found in and dropping repeats. */
export function groupViolations(violations: Violation[]): Violation[] {
  const byPath = new Map<string, string[]>();
  for (const { path, errors } of violations) {
    const list = byPath.get(path) ?? [];
    for (const error of errors) if (!list.includes(error)) list.push(error);
    byPath.set(path, list);
  }
  return [...byPath].map(([path, errors]) => ({ path, errors }));
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

const EXPECTED: Record<string, string> = {
  string: 'error.expected.jsstring',
  number: 'error.expected.jsnumber',
  int: 'error.expected.int',
  boolean: 'error.expected.jsboolean',
  array: 'error.expected.jsarray',
  object: 'error.expected.jsobject',
  record: 'error.expected.jsobject',
};

/** Fields Marathon reads as doubles: it prints their values Scala-style (`0.0`, `-3.0`). */
const DOUBLE_FIELDS = new Set([
  'cpus',
  'mem',
  'disk',
  'backoffFactor',
  'minimumHealthCapacity',
  'maximumOverCapacity',
  'scaleBy',
]);

function show(value: unknown, path: readonly PropertyKey[]): string {
  const key = path.at(-1);
  if (typeof value === 'number' && Number.isInteger(value) && DOUBLE_FIELDS.has(String(key))) {
    return `${value}.0`;
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** One issue as `[isReadError, message]`: read errors are play-json's, the rest wix-accord's. */
function describe(issue: z.core.$ZodIssue, input: unknown): [boolean, string] {
  const value = valueAt(input, issue.path);
  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined) return [true, 'error.path.missing'];
      return [true, EXPECTED[issue.expected] ?? `error.expected.${issue.expected}`];
    case 'invalid_union':
      return [true, 'error.invalid'];
    case 'invalid_value':
      return [true, 'error.unknown.enum.literal'];
    case 'too_small':
      if (issue.origin === 'string') return [false, 'must not be empty'];
      if (issue.origin === 'array') {
        return [
          false,
          `size is ${Array.isArray(value) ? value.length : 0}, expected ${String(issue.minimum)} or more`,
        ];
      }
      return [
        false,
        `got ${show(value, issue.path)}, expected ${show(Number(issue.minimum), issue.path)} or more`,
      ];
    case 'too_big':
      if (issue.origin === 'array') {
        return [
          false,
          `size is ${Array.isArray(value) ? value.length : 0}, expected ${String(issue.maximum)} or less`,
        ];
      }
      return [
        false,
        `got ${show(value, issue.path)}, expected ${show(Number(issue.maximum), issue.path)} or less`,
      ];
    case 'custom':
    case 'invalid_element':
    case 'invalid_format':
    case 'invalid_key':
    case 'not_multiple_of':
    case 'unrecognized_keys':
      return [false, issue.message];
    default:
      return assertNever(issue);
  }
}

/**
 * Parses `input` with `schema`. On failure throws Marathon's answer: 400 "Invalid JSON" with
 * `details[{path, errors}]` when a value has the wrong JSON type or is missing, otherwise 422
 * "Object is not valid".
 */
export function parseWire<TSchema extends z.ZodType>(
  schema: TSchema,
  input: unknown,
): z.output<TSchema> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  let isReadError = false;
  const violations: Violation[] = result.error.issues.map((issue) => {
    const [read, message] = describe(issue, input);
    isReadError ||= read;
    return { path: marathonPath(issue.path), errors: [message] };
  });
  const grouped = groupViolations(violations);
  if (isReadError) throw new ApiError(ApiErrorCode.JSON_READ, 'Invalid JSON', grouped);
  throw new ValidationError(grouped);
}
