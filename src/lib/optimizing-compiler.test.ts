// enableOptimizingCompiler in a node started as bin/pacer starts the agent (`--no-opt`): a hot
// function stays unoptimized until the call, and is optimized after it.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const MODULE = path.join(import.meta.dirname, 'optimizing-compiler.ts');

describe('enableOptimizingCompiler', () => {
  it('turns TurboFan on in a process started without it', async () => {
    // %GetOptimizationStatus bit 4 (16): the function runs optimized code.
    const script = `import { enableOptimizingCompiler } from ${JSON.stringify(MODULE)};
const isOptimized = (f) => (%GetOptimizationStatus(f) & 16) !== 0;
function hot(n) { let s = 0; for (let i = 0; i < n; i++) s += i % 7; return s; }
const run = (f) => { for (let i = 0; i < 3; i++) { %PrepareFunctionForOptimization(f); f(100); f(100); %OptimizeFunctionOnNextCall(f); f(100); } return isOptimized(f); };
const before = run(hot);
enableOptimizingCompiler();
function hot2(n) { let s = 0; for (let i = 0; i < n; i++) s += i % 5; return s; }
console.log(JSON.stringify({ before, after: run(hot2) }));`;
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--no-opt',
      '--allow-natives-syntax',
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      script,
    ]);
    expect(JSON.parse(stdout)).toEqual({ before: false, after: true });
  });
});
