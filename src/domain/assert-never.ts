// Exhaustiveness guard for switches over unions: the compiler proves the call unreachable.

export function assertNever(value: never): never {
  throw new Error(`Unexpected value: ${JSON.stringify(value)}`);
}
