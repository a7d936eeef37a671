// V8's `gc` for code that may collect on purpose, without `--expose-gc` on the command line
// (a worker thread may not be given it, and a process that has it exposes `gc` to all its code).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A full collection, as `gc()`. A context created after the flag is set carries `gc`; the flag
 * exposes nothing else, and the caller's own global gets no `gc`.
 */
export function gcFunction(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
