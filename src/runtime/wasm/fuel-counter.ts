// The fuel counter of a running instance (worker side): set to the task's budget after
// instantiation, and charged by host calls (WasiHostOptions.chargeFuel).
import { InstrumentExports } from './worker-messages.js';

/**
 * Host calls' fuel (`WasiHostOptions.chargeFuel`): taken from the instance's counter, which the
 * guest's next fuel check acts on. Units are whole and never negative, whatever the caller
 * computed; a module without a counter (unmetered) is not charged.
 */
export function fuelCharger(
  counter: () => WebAssembly.Global | undefined,
  /** Called after each charge: the worker publishes the fuel left for the driver to read. */
  onCharged?: () => void,
): (units: number) => void {
  return (units) => {
    const fuel = counter();
    if (!fuel || !(units > 0)) return;
    fuel.value =
      (fuel.value as bigint) - BigInt(Math.ceil(Math.min(units, Number.MAX_SAFE_INTEGER)));
    onCharged?.();
  };
}

/** The instance's fuel counter, set to the task's budget (the compiled module holds 0). */
export function setFuelBudget(
  instance: WebAssembly.Instance,
  budget: bigint | undefined,
): WebAssembly.Global | undefined {
  const fuel = instance.exports[InstrumentExports.fuel];
  if (!(fuel instanceof WebAssembly.Global)) return undefined;
  fuel.value = budget ?? 0n;
  return fuel;
}
