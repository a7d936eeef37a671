// Rules for the `PACER_` labels that carry limits Marathon has no field for: a value is a whole
// number > 0 that fits what the agent counts in, never zero ("unlimited") or a guess at a default.
import type { Violation } from '../../../domain/index.js';

/** The largest fuel a task can hold: the Wasm fuel counter is a signed 64-bit integer. */
const MAX_FUEL = 2n ** 63n - 1n;

/** Whole number > 0, written plainly: no sign, exponent, fraction, spaces or leading zero. */
const POSITIVE_WHOLE = /^[1-9][0-9]*$/;

const rules: Record<string, { max: bigint; what: string }> = {
  PACER_WASM_FUEL: { max: MAX_FUEL, what: 'fuel budget' },
  PACER_WASM_TIMEOUT_SECONDS: { max: BigInt(Number.MAX_SAFE_INTEGER), what: 'seconds' },
};

/**
 * Adds a violation at `/labels/<name>` for each limit label that is not a whole number > 0 (or
 * is past what its counter holds). Whether an agent allows that much is the agent's to say: a
 * value over its maximum fails the task there with a message (src/agent/task-limits.ts).
 */
export function checkPacerLabels(labels: Record<string, string>, violations: Violation[]): void {
  for (const [name, rule] of Object.entries(rules)) {
    const value = labels[name];
    if (value === undefined) continue;
    if (!POSITIVE_WHOLE.test(value)) {
      violations.push({
        path: `/labels/${name}`,
        errors: [`must be a whole number of ${rule.what} greater than 0, got '${value}'`],
      });
    } else if (BigInt(value) > rule.max) {
      violations.push({ path: `/labels/${name}`, errors: [`must be at most ${rule.max}`] });
    }
  }
}
