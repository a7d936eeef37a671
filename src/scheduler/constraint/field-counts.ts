// How many instances of one app sit on each value of one field, with the smallest group kept
// up to date in O(1) per placement (GROUP_BY asks for it on every agent it checks).

/** Instance counts of one app grouped by one field's value (undefined = agent lacks the field). */
export interface FieldCounts {
  /** value → instances on agents with that value. */
  readonly byValue: Map<string | undefined, number>;
  /** Size of the smallest group; 0 when there is none. */
  readonly minCount: number;
  /** Adds one instance on an agent whose field has `value`. */
  add(value: string | undefined): void;
}

/** Empty counts. */
export function createFieldCounts(): FieldCounts {
  const byValue = new Map<string | undefined, number>();
  // groupsOfSize[n] = how many groups hold exactly n instances; keeps minCount O(1) to update.
  const groupsOfSize: number[] = [];
  let minCount = 0;
  return {
    byValue,
    get minCount() {
      return minCount;
    },
    add(value) {
      const before = byValue.get(value) ?? 0;
      byValue.set(value, before + 1);
      groupsOfSize[before + 1] = (groupsOfSize[before + 1] ?? 0) + 1;
      if (before === 0) {
        minCount = 1;
        return;
      }
      const left = (groupsOfSize[before] ?? 0) - 1;
      groupsOfSize[before] = left;
      if (before === minCount && left === 0) minCount = before + 1;
    },
  };
}
