// Refuses a module before it runs: imports outside WASI preview 1 (FORBIDDEN_IMPORT), a missing
// `_start` or `memory` export, and structure over the size caps (INVALID_MODULE).
import { FailureReason } from '../../domain/index.js';
import type { ParsedModule } from './parse-module.js';
import { signatureOf, wasiModuleName, wasiSignatures } from './wasi-signatures.js';

export interface ModuleCaps {
  maxModuleBytes: number;
  maxFunctions: number;
  maxGlobals: number;
  maxTables: number;
  /** Elements per table (initial and maximum). */
  maxTableElements: number;
  maxDataSegments: number;
  maxElementSegments: number;
  maxTypes: number;
}

export const defaultModuleCaps: ModuleCaps = {
  maxModuleBytes: 64 * 1024 * 1024,
  maxFunctions: 100_000,
  maxGlobals: 10_000,
  maxTables: 10,
  maxTableElements: 1_000_000,
  maxDataSegments: 100_000,
  maxElementSegments: 100_000,
  maxTypes: 100_000,
};

export type ModuleProblem = { reason: FailureReason; message: string };

/** The first reason to refuse the module, or undefined when it may run. */
export function checkModule(module: ParsedModule, caps: ModuleCaps): ModuleProblem | undefined {
  const invalid = (message: string): ModuleProblem => ({
    reason: FailureReason.INVALID_MODULE,
    message,
  });
  for (const entry of module.imports) {
    const what = `${entry.module}.${entry.name}`;
    if (entry.module !== wasiModuleName) {
      return {
        reason: FailureReason.FORBIDDEN_IMPORT,
        message: `imports ${what}, which is not WASI preview 1`,
      };
    }
    if (entry.kind === 'memory') {
      return {
        reason: FailureReason.FORBIDDEN_IMPORT,
        message: `imports a memory (${what}); modules must define their own`,
      };
    }
    const expected = wasiSignatures[entry.name];
    if (entry.kind !== 'func' || expected === undefined) {
      return {
        reason: FailureReason.FORBIDDEN_IMPORT,
        message: `imports ${what}, which the WASI host does not provide`,
      };
    }
    const type = entry.typeIndex === undefined ? undefined : module.types[entry.typeIndex];
    if (!type) return invalid(`import ${what} names a missing type`);
    if (signatureOf(type) !== expected) {
      return {
        reason: FailureReason.FORBIDDEN_IMPORT,
        message: `imports ${what} with signature (${signatureOf(type)}), WASI has (${expected})`,
      };
    }
  }
  if (module.bytes.length > caps.maxModuleBytes) {
    return invalid(`module is ${module.bytes.length} bytes, the cap is ${caps.maxModuleBytes}`);
  }
  const counts: [string, number, number][] = [
    ['functions', module.importedFuncCount + module.functionTypes.length, caps.maxFunctions],
    ['globals', module.importedGlobalCount + module.globalCount, caps.maxGlobals],
    ['tables', module.tables.length, caps.maxTables],
    ['data segments', module.dataCount, caps.maxDataSegments],
    ['element segments', module.elementCount, caps.maxElementSegments],
    ['types', module.types.length, caps.maxTypes],
  ];
  for (const [what, count, cap] of counts) {
    if (count > cap) return invalid(`module has ${count} ${what}, the cap is ${cap}`);
  }
  for (const table of module.tables) {
    if (table.min > caps.maxTableElements) {
      return invalid(`a table declares ${table.min} elements, the cap is ${caps.maxTableElements}`);
    }
  }
  if (module.memories.length > 1) return invalid('module defines more than one memory');
  if (module.memories.some((memory) => memory.flags & 0x02)) {
    return invalid('shared memories (threads) are not supported');
  }
  const start = module.exports.find((e) => e.name === '_start');
  if (!start || start.kind !== 'func') return invalid('module exports no _start function');
  const hasWasi = module.imports.length > 0;
  if (hasWasi && !module.exports.some((e) => e.name === 'memory' && e.kind === 'memory')) {
    return invalid('module imports WASI functions but exports no memory');
  }
  return undefined;
}
