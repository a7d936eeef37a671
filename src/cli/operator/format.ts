// Output of the operator CLI: aligned tables on a terminal, JSON with `--json` for scripts.

/** Control characters shown escaped (`\u001b`): cells hold agents' and users' text. */
function printable(cell: string): string {
  return cell.replace(
    // eslint-disable-next-line no-control-regex -- control characters are what it looks for
    /[\u0000-\u001f\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * Columns padded to their widest cell; nothing but the header when there are no rows. A cell's
 * control characters are escaped: an agent's hostname or an app's label must not drive the
 * operator's terminal.
 */
export function table(headers: string[], rows: (string | number | undefined)[][]): string {
  const cells = [
    headers,
    ...rows.map((row) => row.map((cell) => (cell === undefined ? '-' : printable(String(cell))))),
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
