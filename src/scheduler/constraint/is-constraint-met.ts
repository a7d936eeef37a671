// Marathon's constraint semantics (`mesosphere.mesos.Constraints`) for one agent's field value.
import { assertNever } from '../../domain/index.js';
import type { CompiledConstraint } from './compile-constraint.js';
import type { FieldCounts } from './field-counts.js';

/** What a constraint looks at besides the agent: the app's instances placed so far. */
export interface PlacedInstances {
  /** Instances of the app placed anywhere (active ones plus those placed earlier in the plan). */
  total: number;
  /** The same instances grouped by the constraint's field. */
  counts: FieldCounts;
}

/**
 * True when an agent whose field has `value` (undefined: the agent lacks the field) may take
 * one more instance. A missing field satisfies only UNLIKE, as in Marathon.
 */
export function isConstraintMet(
  constraint: CompiledConstraint,
  value: string | undefined,
  placed: PlacedInstances,
): boolean {
  const { operator } = constraint;
  if (operator === undefined) return false;
  if (value === undefined) return operator === 'UNLIKE';
  const here = placed.counts.byValue.get(value) ?? 0;
  switch (operator) {
    case 'UNIQUE':
      return here === 0;
    case 'CLUSTER':
      return (
        (constraint.value === undefined || constraint.value === '' || constraint.value === value) &&
        here === placed.total
      );
    case 'GROUP_BY': {
      // Marathon: a value not used yet is always fine; a used one only once there are at least
      // `count` groups and it is (one of) the smallest.
      if (here === 0) return true;
      return placed.counts.byValue.size >= constraint.count && here === placed.counts.minCount;
    }
    case 'MAX_PER':
      return here < constraint.count;
    case 'LIKE':
      return constraint.pattern?.test(value) ?? false;
    case 'UNLIKE':
      return !(constraint.pattern?.test(value) ?? false);
    case 'IS':
      return value === constraint.value;
    default:
      return assertNever(operator);
  }
}
