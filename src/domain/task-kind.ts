// How an app runs: a Wasm module (the default), a native command, or a container (DESIGN.md).
import type { AppDefinition } from './app.js';
import { splitCommandLine } from './command-line.js';

export const TaskKind = ['wasm', 'command', 'container'] as const;
export type TaskKind = (typeof TaskKind)[number];

/** The first word of `cmd` (or `args[0]`) naming a `.wasm` file makes a Wasm task. */
export function taskKindOf(app: Pick<AppDefinition, 'cmd' | 'args' | 'container'>): TaskKind {
  if (app.container?.docker?.image) return 'container';
  const first = app.args?.[0] ?? (app.cmd === undefined ? undefined : splitCommandLine(app.cmd)[0]);
  if (first?.endsWith('.wasm')) return 'wasm';
  return 'command';
}
