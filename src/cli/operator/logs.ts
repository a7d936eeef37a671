// Task logs for the operator CLI: the last lines, or followed as they come (server-sent events).
// Lines are written as the task wrote them; control characters other than tab are shown escaped,
// so a task cannot drive the operator's terminal.
import type { PacerClient } from './client.js';
import { expectData } from './client.js';
import { openServerSentEvents } from './event-stream.js';
import type { OperatorSettings } from './settings.js';

interface LogLine {
  stream: string;
  line: string;
}

/** The line with terminal control characters made visible (`\x1b` → `\u001b`). */
export function safeLine(line: string): string {
  return line.replace(
    // eslint-disable-next-line no-control-regex -- control characters are what it looks for
    /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function write(line: LogLine, options: { taskId: string; prefix: boolean }) {
  process.stdout.write(`${options.prefix ? `${options.taskId}  ` : ''}${safeLine(line.line)}\n`);
}

export async function printLogs(
  client: PacerClient,
  _settings: OperatorSettings,
  options: { taskId: string; stream: 'stdout' | 'stderr'; prefix: boolean },
): Promise<void> {
  const answer = await client.GET('/v2/tasks/{taskId}/logs', {
    params: { path: { taskId: options.taskId }, query: { stream: options.stream } as never },
  });
  const { lines } = expectData(answer) as { lines: LogLine[] };
  for (const line of lines) write(line, options);
}

export async function followLogs(
  settings: OperatorSettings,
  options: { taskId: string; stream: 'stdout' | 'stderr'; prefix: boolean },
): Promise<void> {
  const path = `/v2/tasks/${encodeURIComponent(options.taskId)}/logs?follow=true&stream=${options.stream}`;
  for await (const line of await openServerSentEvents(settings, path))
    write(line as LogLine, options);
}
