// ioredis, loaded with `require` instead of `import` (issue 14). An ES module that imports a
// CommonJS package makes Node scan the package's source for its export names
// (cjs-module-lexer); on ioredis the scan runs long enough for V8 to optimize the scanner, and
// that compilation left ~4.5 MiB of compiler memory in an idle agent. `require` needs no scan.
import { createRequire } from 'node:module';
import type * as IORedis from 'ioredis';

export const { Redis } = createRequire(import.meta.url)('ioredis') as typeof IORedis;
export type Redis = IORedis.Redis;
