// Partial updates (PUT with partialUpdate, PATCH): the given fields replace the current
// ones; a field that excludes another (cmd/args, ports/portDefinitions, uris/fetch) clears it.
import type { AppDefinition } from '../../../domain/index.js';
import { toAppJson } from './app-json.js';
import type { WireApp } from './app-schema.js';

/** Fields that, when given, drop the current value of the listed fields. */
const CLEARS: Partial<Record<keyof WireApp, (keyof WireApp)[]>> = {
  cmd: ['args'],
  args: ['cmd'],
  ports: ['portDefinitions'],
  uris: ['fetch'],
  networks: ['portDefinitions'],
  container: ['portDefinitions', 'networks'],
};

/** The wire form of `current` with `update`'s fields laid over it. */
export function mergeAppUpdate(current: AppDefinition, update: WireApp): WireApp {
  const base = { ...toAppJson(current) } as WireApp;
  delete base.version;
  delete base.versionInfo;
  for (const key of Object.keys(update) as (keyof WireApp)[]) {
    for (const cleared of CLEARS[key] ?? []) {
      if (!(cleared in update)) delete base[cleared];
    }
  }
  return { ...base, ...update };
}
