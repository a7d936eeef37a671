// Output of the operator CLI: aligned tables on a terminal, JSON with `--json` for scripts.

/** Columns padded to their widest cell; nothing but the header when there are no rows. */
export function table(headers: string[], rows: (string | number | undefined)[][]): string {
  const cells = [
    headers,
    ...rows.map((row) => row.map((cell) => (cell === undefined ? '-' : String(cell)))),
  ];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  return cells
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : (cell ?? '').padEnd(widths[i] ?? 0)))
        .join('  '),
    )
    .join('\n');
}

/** Prints `value` as JSON, or what `render` makes of it. */
export function print<T>(options: { json: boolean }, value: T, render: (value: T) => string): void {
  process.stdout.write(`${options.json ? JSON.stringify(value, null, 2) : render(value)}\n`);
}

/** `12.3 s` */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** A JSON value for a table cell or a line: primitives as they are, anything else as JSON. */
export function text(value: unknown): string {
  if (value === undefined || value === null) return '-';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}
