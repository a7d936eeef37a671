// Validation of Marathon app constraints `[field, OPERATOR, value?]` with Marathon's messages
// (BEHAVIOUR.md (g)); operators come back upper-cased.
import type { Constraint, Violation } from '../../../domain/index.js';
import { compileFullMatch } from '../../../lib/linear-regex.js';

const OPERATORS = ['UNIQUE', 'CLUSTER', 'GROUP_BY', 'LIKE', 'MAX_PER', 'UNLIKE', 'IS'] as const;

/** Patterns run in RE2's linear-time engine: its syntax (no backreferences, lookarounds). */
function isRegex(value: string): boolean {
  return compileFullMatch(value).ok;
}

function checkOne(parts: string[]): string | undefined {
  if (parts.length < 2 || parts.length > 3) return 'Each constraint must have either 2 or 3 fields';
  const [field = '', rawOperator = '', value] = parts;
  if (field === '') return 'missing field for constraint declaration';
  const operator = rawOperator.toUpperCase();
  switch (operator) {
    case 'UNIQUE':
      return value === undefined ? undefined : 'UNIQUE does not accept a value';
    case 'CLUSTER':
      return undefined;
    case 'GROUP_BY':
      return value === undefined || /^\d+$/.test(value)
        ? undefined
        : 'GROUP BY must define an integer value or else no value at all';
    case 'MAX_PER':
      return value !== undefined && /^\d+$/.test(value)
        ? undefined
        : 'MAX_PER requires an integer value';
    case 'LIKE':
    case 'UNLIKE':
      if (value === undefined || value === '') {
        return 'LIKE and UNLIKE require a non-empty, regular expression value';
      }
      return isRegex(value) ? undefined : `'${value}' is not a valid regular expression`;
    case 'IS':
      return value !== undefined && /^[a-zA-Z0-9_/.-]*$/.test(value)
        ? undefined
        : 'IS only supports Mesos text and float values (see http://mesos.apache.org/documentation/latest/attributes-resources/)';
    default:
      return `operator must be one of the following ${OPERATORS.slice(0, -1).join(', ')} or IS`;
  }
}

/** Validates and normalizes constraints; violations use the path `/constraints(i)`. */
export function normalizeConstraints(
  constraints: string[][],
  violations: Violation[],
): Constraint[] {
  const out: Constraint[] = [];
  const seen = new Set<string>();
  constraints.forEach((parts, index) => {
    const error = checkOne(parts);
    if (error) {
      violations.push({ path: `/constraints(${index})`, errors: [error] });
      return;
    }
    const [field = '', operator = '', value] = parts;
    const constraint: Constraint =
      value === undefined
        ? [field, operator.toUpperCase()]
        : [field, operator.toUpperCase(), value];
    const key = JSON.stringify(constraint);
    if (seen.has(key)) {
      violations.push({ path: '/constraints', errors: ['Elements must be unique'] });
      return;
    }
    seen.add(key);
    out.push(constraint);
  });
  return out;
}
