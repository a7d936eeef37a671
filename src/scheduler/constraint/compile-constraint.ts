// Marathon's constraint tuples turned, once per app, into a form cheap to evaluate per agent.
import type { Constraint } from '../../domain/index.js';
import { compileFullMatch, type FullMatch } from '../../lib/linear-regex.js';
import { isHostnameField, mesosValueString } from '../agent-field.js';

export const ConstraintOperator = [
  'UNIQUE',
  'CLUSTER',
  'GROUP_BY',
  'LIKE',
  'UNLIKE',
  'MAX_PER',
  'IS',
] as const;
export type ConstraintOperator = (typeof ConstraintOperator)[number];

/** A constraint ready to evaluate. `operator` is undefined for one Marathon would refuse. */
export interface CompiledConstraint {
  /** The field as written; hostname fields are normalized to `hostname`. */
  field: string;
  operator: ConstraintOperator | undefined;
  /** The value as written (IS: formatted like a Mesos scalar when it is one). */
  value: string | undefined;
  /** MAX_PER: the limit; GROUP_BY: the minimum number of groups (0 when absent). */
  count: number;
  /** LIKE / UNLIKE: the value as a full-match regular expression (RE2: linear time). */
  pattern: FullMatch | undefined;
}

/** Compiles one constraint; an invalid regex or number compiles to a constraint never met. */
export function compileConstraint(constraint: Constraint): CompiledConstraint {
  const [rawField, rawOperator, value] = constraint;
  const upper = rawOperator.toUpperCase();
  const operator = (ConstraintOperator as readonly string[]).includes(upper)
    ? (upper as ConstraintOperator)
    : undefined;
  const field = isHostnameField(rawField) ? 'hostname' : rawField;
  let count = 0;
  let pattern: FullMatch | undefined;
  let compiledOperator = operator;
  if (operator === 'MAX_PER' || operator === 'GROUP_BY') {
    count = value === undefined ? 0 : Number(value);
    if (!Number.isInteger(count)) compiledOperator = undefined;
  } else if (operator === 'LIKE' || operator === 'UNLIKE') {
    pattern = fullMatch(value);
    if (!pattern) compiledOperator = undefined;
  }
  return {
    field,
    operator: compiledOperator,
    value: operator === 'IS' && value !== undefined ? mesosValueString(value) : value,
    count,
    pattern,
  };
}

/**
 * A regex that must match the whole string, as Java's `String.matches`, in RE2's linear-time
 * engine (no backreferences or lookarounds); undefined if invalid.
 */
export function fullMatch(source: string | undefined): FullMatch | undefined {
  if (source === undefined) return undefined;
  const compiled = compileFullMatch(source);
  return compiled.ok ? compiled.value : undefined;
}
