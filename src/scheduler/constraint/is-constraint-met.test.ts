// Named scenarios for each constraint operator's semantics (Marathon's `Constraints.scala`).
import { describe, expect, it } from 'vitest';
import type { Constraint } from '../../domain/index.js';
import { compileConstraint } from './compile-constraint.js';
import { createFieldCounts } from './field-counts.js';
import { isConstraintMet } from './is-constraint-met.js';

/** Is the constraint met on an agent with `value`, given instances on agents with `placed`? */
function met(
  constraint: Constraint,
  value: string | undefined,
  placed: (string | undefined)[] = [],
) {
  const counts = createFieldCounts();
  for (const v of placed) counts.add(v);
  return isConstraintMet(compileConstraint(constraint), value, { total: placed.length, counts });
}

describe('UNIQUE', () => {
  it('accepts a value no instance has', () => {
    expect(met(['hostname', 'UNIQUE'], 'b', ['a'])).toBe(true);
  });
  it('refuses a value an instance already has', () => {
    expect(met(['hostname', 'UNIQUE'], 'a', ['a'])).toBe(false);
  });
});

describe('CLUSTER', () => {
  it('with a value accepts only that value', () => {
    expect(met(['rack', 'CLUSTER', 'r1'], 'r1')).toBe(true);
    expect(met(['rack', 'CLUSTER', 'r1'], 'r2')).toBe(false);
  });
  it('without a value accepts anything first, then only the value of the placed instances', () => {
    expect(met(['rack', 'CLUSTER'], 'r2')).toBe(true);
    expect(met(['rack', 'CLUSTER'], 'r2', ['r1'])).toBe(false);
    expect(met(['rack', 'CLUSTER'], 'r1', ['r1', 'r1'])).toBe(true);
  });
});

describe('GROUP_BY', () => {
  it('accepts a value not used yet', () => {
    expect(met(['zone', 'GROUP_BY'], 'c', ['a', 'a', 'b'])).toBe(true);
  });
  it('accepts a used value only when it is the smallest group', () => {
    expect(met(['zone', 'GROUP_BY'], 'a', ['a', 'b'])).toBe(true);
    expect(met(['zone', 'GROUP_BY'], 'a', ['a', 'a', 'b'])).toBe(false);
    expect(met(['zone', 'GROUP_BY'], 'b', ['a', 'a', 'b'])).toBe(true);
  });
  it('with a value refuses a used value until that many groups exist', () => {
    expect(met(['zone', 'GROUP_BY', '3'], 'a', ['a', 'b'])).toBe(false);
    expect(met(['zone', 'GROUP_BY', '3'], 'a', ['a', 'b', 'c'])).toBe(true);
  });
});

describe('MAX_PER', () => {
  it('accepts a value with fewer instances than the limit', () => {
    expect(met(['zone', 'MAX_PER', '2'], 'a', ['a'])).toBe(true);
  });
  it('refuses a value at the limit', () => {
    expect(met(['zone', 'MAX_PER', '2'], 'a', ['a', 'a'])).toBe(false);
  });
});

describe('LIKE and UNLIKE', () => {
  it('LIKE needs the whole value to match the regex', () => {
    expect(met(['rack', 'LIKE', 'r[12]'], 'r1')).toBe(true);
    expect(met(['rack', 'LIKE', 'r[12]'], 'r12')).toBe(false);
    expect(met(['rack', 'LIKE', 'r'], 'rack')).toBe(false);
  });
  it('UNLIKE refuses a whole match and accepts a partial one', () => {
    expect(met(['rack', 'UNLIKE', 'r[12]'], 'r1')).toBe(false);
    expect(met(['rack', 'UNLIKE', 'r[12]'], 'r12')).toBe(true);
  });
  it('the operator is matched case-insensitively', () => {
    expect(met(['rack', 'like', 'r.*'], 'r9')).toBe(true);
  });
});

describe('IS', () => {
  it('accepts only the exact value', () => {
    expect(met(['os', 'IS', 'linux'], 'linux')).toBe(true);
    expect(met(['os', 'IS', 'linux'], 'linux2')).toBe(false);
  });
  it('compares scalars after 0.### formatting', () => {
    expect(met(['gen', 'IS', '3.0'], '3')).toBe(true);
  });
});

describe('a field the agent lacks', () => {
  it('satisfies only UNLIKE', () => {
    const operators: Constraint[] = [
      ['rack', 'UNIQUE'],
      ['rack', 'CLUSTER'],
      ['rack', 'GROUP_BY'],
      ['rack', 'MAX_PER', '5'],
      ['rack', 'LIKE', '.*'],
      ['rack', 'IS', 'r1'],
    ];
    for (const constraint of operators) expect(met(constraint, undefined)).toBe(false);
    expect(met(['rack', 'UNLIKE', 'r1'], undefined)).toBe(true);
  });
});

it('refuses every agent for an operator Marathon does not know', () => {
  expect(met(['rack', 'NEAR', 'r1'], 'r1')).toBe(false);
});

describe('LIKE and UNLIKE in a linear-time engine', () => {
  it('evaluates a catastrophic-backtracking pattern against a long agent value', () => {
    const hostile = `${'a'.repeat(50_000)}!`;
    expect(met(['rack', 'LIKE', '(a+)+$'], hostile)).toBe(false);
    expect(met(['rack', 'UNLIKE', '(a+)+$'], hostile)).toBe(true);
  });
  it('never meets a constraint whose pattern RE2 refuses', () => {
    expect(met(['rack', 'LIKE', '(r)\\1'], 'rr')).toBe(false);
  });
});
