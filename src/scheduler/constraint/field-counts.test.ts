// Named scenarios for FieldCounts: the smallest group stays right as instances are added.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createFieldCounts } from './field-counts.js';

describe('createFieldCounts', () => {
  it('has no smallest group while empty', () => {
    expect(createFieldCounts().minCount).toBe(0);
  });

  it('raises the smallest group only when its last member grows', () => {
    const counts = createFieldCounts();
    counts.add('a');
    counts.add('b');
    counts.add('a');
    expect(counts.minCount).toBe(1);
    counts.add('b');
    expect(counts.minCount).toBe(2);
    counts.add(undefined);
    expect(counts.minCount).toBe(1);
  });

  it('keeps minCount equal to the smallest group for any sequence', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'b', 'c', undefined)), (values) => {
        const counts = createFieldCounts();
        for (const v of values) counts.add(v);
        const sizes = [...counts.byValue.values()];
        expect(counts.minCount).toBe(sizes.length === 0 ? 0 : Math.min(...sizes));
      }),
    );
  });
});
