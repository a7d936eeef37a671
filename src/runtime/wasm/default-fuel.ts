// The fuel budget of a Wasm task whose app and agent set none (its own file: the driver's module
// is loaded only on first use, lazy-driver.ts).
export const defaultFuelBudget = 100_000_000_000n;
