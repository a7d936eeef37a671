// V8's optimizing compiler (TurboFan), switched on from inside the process. bin/pacer starts the
// agent without it (`--no-opt`, issue 14): loading the agent's ~100 modules made Node's path
// functions hot enough to be optimized, and the compiler's code (~3.5 MiB of the node binary
// read in) and its memory (~1.5 MiB) stayed with the idle agent for good. An idle agent runs
// little code and needs no optimizing; its first launch turns the compiler on for what follows.
import { setFlagsFromString } from 'node:v8';

let isEnabled = false;

/**
 * Turns TurboFan on, process-wide (task threads included), once; later calls do nothing. A
 * no-op where it was never off. V8 reads the flag each time it decides to optimize a function.
 */
export function enableOptimizingCompiler(): void {
  if (isEnabled) return;
  isEnabled = true;
  setFlagsFromString('--opt');
}
