// The differential tests of the bus's hand-written checks (command-schema.ts, status-check.ts):
// a check and the zod schema it replaced give the same verdict and the same output on a corpus
// of valid and invalid messages and on generated ones.
import fc from 'fast-check';
import { expect, it } from 'vitest';
import type { MessageSchema } from '../../src/bus/message-check.js';

/** A hand-written check and the zod schema it must agree with. */
export interface CheckPair {
  ours: MessageSchema<unknown>;
  reference: MessageSchema<unknown>;
}

/** Both schemas' verdict and output (the output only when both accept). */
function verdicts({ ours, reference }: CheckPair, value: unknown) {
  const mine = ours.safeParse(value);
  const theirs = reference.safeParse(value);
  return {
    ours: mine.success ? { success: true, data: mine.data } : { success: false },
    reference: theirs.success ? { success: true, data: theirs.data } : { success: false },
  };
}

/** One test per message of the corpus: valid ones accepted with zod's output, invalid refused. */
export function itAgreesOnCorpus(
  pair: CheckPair,
  corpus: { what: string; valid: unknown[]; invalid: unknown[] },
): void {
  it.each(corpus.valid.map((value, i) => [i, value]))(
    `accepts valid ${corpus.what} %i as zod did`,
    (_, value) => {
      const { ours, reference } = verdicts(pair, value);
      expect(reference.success).toBe(true);
      expect(ours).toEqual(reference);
    },
  );
  it.each(corpus.invalid.map((value, i) => [i, value]))(
    `rejects invalid ${corpus.what} %i as zod did`,
    (_, value) => {
      const { ours, reference } = verdicts(pair, value);
      expect(reference.success).toBe(false);
      expect(ours.success).toBe(false);
    },
  );
}

/** `base` with one of its fields (or another) replaced by a value of `anyValue`, or removed. */
export function mutated(
  base: Record<string, unknown>,
  anyValue: fc.Arbitrary<unknown>,
): fc.Arbitrary<Record<string, unknown>> {
  const field = fc.tuple(fc.constantFrom(...Object.keys(base), 'other'), anyValue, fc.boolean());
  return field.map(([key, value, remove]) => {
    const copy: Record<string, unknown> = { ...base };
    if (remove) delete copy[key];
    else copy[key] = value;
    return copy;
  });
}

/** The same verdict and output for each of 5,000 generated values. */
export function assertAgreesOnGenerated(pair: CheckPair, values: fc.Arbitrary<unknown>): void {
  fc.assert(
    fc.property(values, (value) => {
      const { ours, reference } = verdicts(pair, value);
      expect(ours).toEqual(reference);
    }),
    { numRuns: 5_000 },
  );
}
