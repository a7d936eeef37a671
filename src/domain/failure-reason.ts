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
  /** A native task's sandbox grew past `disk` (command and container tasks; Wasm writes fail instead). */
  DISK_LIMIT: 'DISK_LIMIT',
} as const;

export type FailureReason = (typeof FailureReason)[keyof typeof FailureReason];

/** The status message: the code first, then a human sentence. */
export function failureMessage(reason: FailureReason, sentence: string): string {
  return `${reason}: ${sentence}`;
}
