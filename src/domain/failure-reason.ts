// Failure reason codes of DESIGN.md: the first word of a finished task's status message.

export const FailureReason = {
  OUT_OF_FUEL: 'OUT_OF_FUEL',
  MEMORY_LIMIT: 'MEMORY_LIMIT',
  TIMEOUT: 'TIMEOUT',
  TRAP: 'TRAP',
  NONZERO_EXIT: 'NONZERO_EXIT',
  INVALID_MODULE: 'INVALID_MODULE',
  FORBIDDEN_IMPORT: 'FORBIDDEN_IMPORT',
  FETCH_FAILED: 'FETCH_FAILED',
  KILLED: 'KILLED',
} as const;

export type FailureReason = (typeof FailureReason)[keyof typeof FailureReason];

/** The status message: the code first, then a human sentence. */
export function failureMessage(reason: FailureReason, sentence: string): string {
  return `${reason}: ${sentence}`;
}
