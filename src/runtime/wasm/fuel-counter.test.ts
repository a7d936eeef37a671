// The worker side of the fuel counter: the budget set per instance, host calls charged to it.
import { describe, expect, it } from 'vitest';
import { fuelCharger } from './fuel-counter.js';

describe('fuelCharger', () => {
  it('takes whole units from the counter and may drive it below zero', () => {
    const fuel = new WebAssembly.Global({ value: 'i64', mutable: true }, 10n);
    const charge = fuelCharger(() => fuel);
    charge(3);
    charge(2.1); // rounded up: a part of a unit is a unit
    expect(fuel.value).toBe(4n);
    charge(1e9);
    expect(fuel.value).toBe(4n - 1_000_000_000n);
  });

  it('never throws and never refunds, whatever units it is given', () => {
    const fuel = new WebAssembly.Global({ value: 'i64', mutable: true }, 10n);
    const charge = fuelCharger(() => fuel);
    for (const units of [0, -5, Number.NaN, -Infinity]) charge(units);
    expect(fuel.value).toBe(10n);
    charge(Infinity); // capped at the largest safe integer
    expect(fuel.value).toBe(10n - BigInt(Number.MAX_SAFE_INTEGER));
    expect(() => fuelCharger(() => undefined)(5)).not.toThrow(); // unmetered: no counter
  });
});
