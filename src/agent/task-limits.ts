// A task's limits on this agent: the agent's defaults, the `PACER_WASM_*` labels up to the
// agent's maxima, and a refusal (never a silent clamp, never "unlimited") for anything else.
import type { TaskLaunchSpec } from '../bus/index.js';
import type { FailureReason } from '../domain/index.js';
import { FailureReason as Reason } from '../domain/index.js';
import type { TaskLimits } from '../runtime/driver.js';

/** The longest wall-clock limit a Node timer keeps (2^31 - 1 ms); longer ones fire at once. */
export const MAX_TIMER_SECONDS = 2_147_483;

/** What an operator allows Wasm tasks on this agent (flags `--wasm-*`). */
export interface AgentLimits {
  /** Fuel of a task without `PACER_WASM_FUEL`. */
  fuel: bigint;
  /** The most fuel a label may ask for. */
  fuelMax: bigint;
  /** Wall-clock limit of a task without `PACER_WASM_TIMEOUT_SECONDS`; 0 = none. */
  timeoutSeconds: number;
  /** The longest limit a label may ask for (at most `MAX_TIMER_SECONDS`). */
  timeoutSecondsMax: number;
  /** The most `mem` a Wasm task may have. */
  memMaxMiB: number;
}

export const defaultAgentLimits: AgentLimits = {
  fuel: 100_000_000_000n,
  fuelMax: 1_000_000_000_000n,
  timeoutSeconds: 0,
  timeoutSecondsMax: MAX_TIMER_SECONDS,
  memMaxMiB: 4096,
};

export type LimitsResult =
  { ok: true; limits: TaskLimits } | { ok: false; reason: FailureReason; message: string };

/** A whole number > 0 written plainly (no sign, exponent, fraction or leading zero). */
const POSITIVE_WHOLE = /^[1-9][0-9]*$/;

/**
 * The limits a task runs with here. Labels the API would refuse (zero, negative, not a whole
 * number: an app stored before that rule) and values over this agent's maxima fail the task
 * with the code of the limit they name, before anything is fetched.
 */
export function resolveLimits(spec: TaskLaunchSpec, agent: AgentLimits): LimitsResult {
  const base: TaskLimits = {
    cpus: spec.resources.cpus,
    memMiB: spec.resources.memMiB,
    diskMiB: spec.resources.diskMiB,
    killGracePeriodMs: (spec.killGracePeriodSeconds ?? 3) * 1000,
  };
  // The labels are the Wasm driver's: other drivers have no fuel and take no timeout from them.
  if (spec.kind !== 'wasm') return { ok: true, limits: base };
  if (spec.resources.memMiB > agent.memMaxMiB) {
    return refuse(
      Reason.MEMORY_LIMIT,
      `mem ${spec.resources.memMiB} MiB is over this agent's maximum of ${agent.memMaxMiB} MiB`,
    );
  }
  const fuelLabel = spec.labels.PACER_WASM_FUEL;
  let fuel = agent.fuel;
  if (fuelLabel !== undefined) {
    if (!POSITIVE_WHOLE.test(fuelLabel))
      return refuse(Reason.OUT_OF_FUEL, `PACER_WASM_FUEL '${fuelLabel}' is not a whole number > 0`);
    fuel = BigInt(fuelLabel);
    if (fuel > agent.fuelMax) {
      return refuse(
        Reason.OUT_OF_FUEL,
        `PACER_WASM_FUEL ${fuelLabel} is over this agent's maximum of ${agent.fuelMax}`,
      );
    }
  }
  const timeoutLabel = spec.labels.PACER_WASM_TIMEOUT_SECONDS;
  let timeoutSeconds = agent.timeoutSeconds;
  if (timeoutLabel !== undefined) {
    if (!POSITIVE_WHOLE.test(timeoutLabel)) {
      return refuse(
        Reason.TIMEOUT,
        `PACER_WASM_TIMEOUT_SECONDS '${timeoutLabel}' is not a whole number > 0`,
      );
    }
    timeoutSeconds = Number(timeoutLabel);
    if (timeoutSeconds > agent.timeoutSecondsMax) {
      return refuse(
        Reason.TIMEOUT,
        `PACER_WASM_TIMEOUT_SECONDS ${timeoutLabel} is over this agent's maximum of ${agent.timeoutSecondsMax}`,
      );
    }
  }
  return { ok: true, limits: { ...base, fuel, timeoutMs: timeoutSeconds * 1000 } };
}

function refuse(reason: FailureReason, message: string): LimitsResult {
  return { ok: false, reason, message };
}

/** Checks an operator's flags: a maximum is > 0, within what a timer holds, and not below its default. */
export function checkAgentLimits(limits: AgentLimits): string | undefined {
  if (limits.fuelMax <= 0n) return '--wasm-fuel-max must be > 0';
  if (limits.fuel <= 0n) return '--wasm-fuel must be > 0';
  if (limits.fuel > limits.fuelMax)
    return `--wasm-fuel ${limits.fuel} is over --wasm-fuel-max ${limits.fuelMax}`;
  if (limits.timeoutSecondsMax <= 0 || limits.timeoutSecondsMax > MAX_TIMER_SECONDS)
    return `--wasm-timeout-seconds-max must be between 1 and ${MAX_TIMER_SECONDS}`;
  if (limits.timeoutSeconds > limits.timeoutSecondsMax)
    return `--wasm-timeout-seconds ${limits.timeoutSeconds} is over --wasm-timeout-seconds-max ${limits.timeoutSecondsMax}`;
  if (limits.memMaxMiB <= 0) return '--wasm-mem-max-mib must be > 0';
  return undefined;
}
