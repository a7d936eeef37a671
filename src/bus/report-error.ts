// One place where a consumer loop reports a failure: to the subscriber's onError when given,
// always to the logger, and never by throwing out of the loop.
import type { Logger } from '../lib/logger.js';
import { BusDecodeError } from './message-codec.js';

export interface ErrorReport {
  error: unknown;
  /** What failed, for the log line (`handler failed`, `read failed`, …). */
  what: string;
  /** Stream, group, consumer and entry id, as known. */
  context: Record<string, string>;
}

/**
 * Hands `report.error` to `onError` (if any) and logs it; a throwing onError is logged too. An
 * entry that does not decode is left to `onError` alone when there is one: whoever wrote it can
 * write a million, so the subscriber decides how often to log (the master: once per agent).
 */
export function reportError(
  logger: Logger,
  onError: ((error: unknown) => void) | undefined,
  report: ErrorReport,
): void {
  if (onError) {
    if (!(report.error instanceof BusDecodeError))
      logger.warn({ ...report.context, err: report.error }, report.what);
    try {
      onError(report.error);
    } catch (error) {
      logger.error({ ...report.context, err: error }, 'onError threw');
    }
  } else {
    logger.error({ ...report.context, err: report.error }, report.what);
  }
}
