// canonicalPath: the fast path for ids that already are canonical gives what resolving them
// segment by segment gives, for any id and base.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalPath } from './ids.js';

/** The plain resolution, segment by segment (what canonicalPath must equal). */
function resolved(id: string, base: string): string {
  const parts = id.startsWith('/') ? [] : base.split('/').filter(Boolean);
  for (const segment of id.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') parts.pop();
    else parts.push(segment);
  }
  return '/' + parts.join('/');
}

const pathText = fc
  .array(fc.constantFrom('a', 'b1', '.', '..', '...', '.x', 'x.', '', '/', '//'), { maxLength: 8 })
  .map((pieces) => pieces.join('/'));

describe('canonicalPath', () => {
  it('resolves doubled and trailing slashes, `.` and `..` against the base', () => {
    expect(canonicalPath('a//b/')).toBe('/a/b');
    expect(canonicalPath('/a/./b/../c')).toBe('/a/c');
    expect(canonicalPath('../x', '/g/h')).toBe('/g/x');
    expect(canonicalPath('y', '/g')).toBe('/g/y');
    expect(canonicalPath('/')).toBe('/');
    expect(canonicalPath('/a/...')).toBe('/a/...');
  });

  it('equals the segment-by-segment resolution for any id and base', () => {
    fc.assert(
      fc.property(pathText, fc.constantFrom('/', '/g', '/g/h/'), (id, base) => {
        expect(canonicalPath(id, base)).toBe(resolved(id, base));
      }),
      { numRuns: 2000 },
    );
  });
});
