// Marathon's validation of app constraints (`SchedulingValidation.complyWithAppConstraintRules`),
// with its messages, for the API edge to turn into a 422.
import type { Violation } from '../../domain/index.js';
import { ConstraintOperator, fullMatch } from './compile-constraint.js';

/** Marathon's messages, word for word. */
export const ConstraintMessage = {
  FIELD_COUNT: 'Each constraint must have either 2 or 3 fields',
  ILLEGAL: 'illegal constraint specification',
  OPERATOR:
    'operator must be one of the following UNIQUE, CLUSTER, GROUP_BY, LIKE, MAX_PER, UNLIKE or IS',
  UNIQUE_VALUE: 'UNIQUE does not accept a value',
  GROUP_BY_VALUE: 'GROUP BY must define an integer value or else no value at all',
  MAX_PER_VALUE: 'MAX_PER requires an integer value',
  REGEX_REQUIRED: 'LIKE and UNLIKE require a non-empty, regular expression value',
  REGEX_INVALID: 'is not a valid regular expression',
  IS_VALUE:
    'IS only supports Mesos text and float values (see http://mesos.apache.org/documentation/latest/attributes-resources/)',
  DUPLICATE: 'Elements must be unique',
} as const;

const INT = /^[+-]?\d+$/;
const MESOS_LITERAL_OR_FLOAT = /^[a-zA-Z0-9_/.-]*$/;

/**
 * Checks each constraint as Marathon does and returns one violation per bad entry, at
 * `/constraints(i)`; duplicates (the RAML's `uniqueItems`) are reported at `/constraints`.
 * Empty when all are valid. The operator is matched case-insensitively.
 */
export function validateConstraints(constraints: readonly (readonly string[])[]): Violation[] {
  const violations: Violation[] = [];
  constraints.forEach((constraint, i) => {
    const error = constraintError(constraint);
    if (error) violations.push({ path: `/constraints(${i})`, errors: [error] });
  });
  const seen = new Set(constraints.map((c) => JSON.stringify(c)));
  if (seen.size < constraints.length) {
    violations.push({ path: '/constraints', errors: [ConstraintMessage.DUPLICATE] });
  }
  return violations;
}

function constraintError(constraint: readonly string[]): string | undefined {
  if (constraint.length < 2 || constraint.length > 3) return ConstraintMessage.FIELD_COUNT;
  const [field, rawOperator, value] = constraint;
  if (!field || rawOperator === undefined) return ConstraintMessage.ILLEGAL;
  const operator = rawOperator.toUpperCase();
  if (!(ConstraintOperator as readonly string[]).includes(operator))
    return ConstraintMessage.OPERATOR;
  switch (operator as ConstraintOperator) {
    case 'UNIQUE':
      return value === undefined ? undefined : ConstraintMessage.UNIQUE_VALUE;
    case 'CLUSTER':
      return undefined;
    case 'GROUP_BY':
      return value === undefined || isInt(value) ? undefined : ConstraintMessage.GROUP_BY_VALUE;
    case 'MAX_PER':
      return value !== undefined && isInt(value) ? undefined : ConstraintMessage.MAX_PER_VALUE;
    case 'LIKE':
    case 'UNLIKE':
      if (value === undefined) return ConstraintMessage.REGEX_REQUIRED;
      return fullMatch(value) ? undefined : ConstraintMessage.REGEX_INVALID;
    case 'IS':
      return MESOS_LITERAL_OR_FLOAT.test(value ?? '') ? undefined : ConstraintMessage.IS_VALUE;
  }
}

/** Java's `String.toInt`: optional sign, digits, within 32 bits. */
function isInt(value: string): boolean {
  if (!INT.test(value)) return false;
  const n = Number(value);
  return n >= -2147483648 && n <= 2147483647;
}
