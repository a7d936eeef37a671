// Reads the engine's log file of a container: podman's k8s-file (`<time> <stream> <P|F> <text>`)
// or docker's json-file (`{"log":"text\n","stream":"stdout"}`), back into stdout/stderr bytes.
import { assertNever } from '../../domain/index.js';

export type ContainerLogFormat = 'k8s-file' | 'json-file';

export interface LogRecord {
  stream: 'stdout' | 'stderr';
  /** The bytes the container wrote, with the newline when the record ends a line. */
  text: string;
}

/** One record per line of the log file; undefined for a line that is not a record. */
export function parseLogRecord(format: ContainerLogFormat, line: string): LogRecord | undefined {
  switch (format) {
    case 'k8s-file': {
      const first = line.indexOf(' ');
      const second = line.indexOf(' ', first + 1);
      const third = line.indexOf(' ', second + 1);
      if (first < 0 || second < 0) return undefined;
      const stream = line.slice(first + 1, second);
      if (stream !== 'stdout' && stream !== 'stderr') return undefined;
      // An empty full line has no text and may lack the space after the tag.
      const tag = third < 0 ? line.slice(second + 1) : line.slice(second + 1, third);
      const text = third < 0 ? '' : line.slice(third + 1);
      return { stream, text: tag === 'P' ? text : `${text}\n` };
    }
    case 'json-file': {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        return undefined;
      }
      const record = value as { log?: unknown; stream?: unknown };
      if (typeof record.log !== 'string') return undefined;
      if (record.stream !== 'stdout' && record.stream !== 'stderr') return undefined;
      return { stream: record.stream, text: record.log };
    }
    default:
      return assertNever(format);
  }
}
