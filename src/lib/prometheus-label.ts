// A label value as Prometheus' text exposition format carries it: backslash, double quote and
// newline escaped. Label values come from clients and agents (routes, app ids, hostnames), so
// none may end a label or a line.
export function escapeLabel(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}
