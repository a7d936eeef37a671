// Named scenarios for the constraint validator: Marathon's messages at `/constraints(i)`.
import { describe, expect, it } from 'vitest';
import { ConstraintMessage, validateConstraints } from './validate-constraints.js';

const errorOf = (constraint: string[]) => validateConstraints([constraint])[0]?.errors;

describe('validateConstraints', () => {
  it('accepts every operator in its valid form', () => {
    expect(
      validateConstraints([
        ['hostname', 'UNIQUE'],
        ['rack', 'CLUSTER', 'r1'],
        ['rack', 'CLUSTER'],
        ['@zone', 'GROUP_BY'],
        ['@zone', 'GROUP_BY', '3'],
        ['@region', 'MAX_PER', '2'],
        ['rack', 'LIKE', 'r[0-9]+'],
        ['rack', 'UNLIKE', 'r1'],
        ['os', 'IS', 'linux'],
        ['gen', 'is', '3.5'],
      ]),
    ).toEqual([]);
  });

  it('refuses a constraint without 2 or 3 fields', () => {
    expect(errorOf(['hostname'])).toEqual([ConstraintMessage.FIELD_COUNT]);
    expect(errorOf(['a', 'LIKE', 'b', 'c'])).toEqual([ConstraintMessage.FIELD_COUNT]);
  });

  it('refuses an empty field', () => {
    expect(errorOf(['', 'UNIQUE'])).toEqual(['illegal constraint specification']);
  });

  it('refuses an unknown operator', () => {
    expect(errorOf(['a', 'b', 'c'])).toEqual([
      'operator must be one of the following UNIQUE, CLUSTER, GROUP_BY, LIKE, MAX_PER, UNLIKE or IS',
    ]);
  });

  it('refuses UNIQUE with a value', () => {
    expect(errorOf(['hostname', 'UNIQUE', 'x'])).toEqual(['UNIQUE does not accept a value']);
  });

  it('refuses GROUP_BY with a value that is not an integer', () => {
    expect(errorOf(['zone', 'GROUP_BY', 'two'])).toEqual([
      'GROUP BY must define an integer value or else no value at all',
    ]);
  });

  it('refuses MAX_PER without an integer value', () => {
    expect(errorOf(['zone', 'MAX_PER'])).toEqual(['MAX_PER requires an integer value']);
    expect(errorOf(['zone', 'MAX_PER', '1.5'])).toEqual(['MAX_PER requires an integer value']);
  });

  it('refuses LIKE and UNLIKE without a value or with a bad regex', () => {
    expect(errorOf(['rack', 'LIKE'])).toEqual([
      'LIKE and UNLIKE require a non-empty, regular expression value',
    ]);
    expect(errorOf(['rack', 'UNLIKE', '(unclosed'])).toEqual(['is not a valid regular expression']);
  });

  it('refuses IS with a value that is not Mesos text or a float', () => {
    expect(errorOf(['os', 'IS', 'a b'])).toEqual([ConstraintMessage.IS_VALUE]);
  });

  it('reports each bad constraint at its own index', () => {
    const violations = validateConstraints([
      ['hostname', 'UNIQUE'],
      ['zone', 'MAX_PER'],
      ['x', 'NOPE'],
    ]);
    expect(violations.map((v) => v.path)).toEqual(['/constraints(1)', '/constraints(2)']);
  });

  it('refuses the same constraint twice', () => {
    expect(
      validateConstraints([
        ['hostname', 'UNIQUE'],
        ['hostname', 'UNIQUE'],
      ]),
    ).toEqual([{ path: '/constraints', errors: [ConstraintMessage.DUPLICATE] }]);
  });
});
