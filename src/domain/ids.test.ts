// canonicalPath: the fast path for ids that already are canonical gives what resolving them
// segment by segment gives, for any id and base. isValidPathId: its one pattern accepts what
// checking each segment accepts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalPath, isValidPathId } from './ids.js';

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

/** Marathon's PathId rule segment by segment (what isValidPathId must equal). */
function segmentsValid(path: string): boolean {
  const segment = /^(([a-z0-9])|([a-z0-9][a-z0-9\-.]*[a-z0-9]))$/;
  return path
    .split('/')
    .filter(Boolean)
    .every((s) => segment.test(s));
}

describe('isValidPathId', () => {
  it('accepts ids of lowercase segments, with dots and dashes inside only', () => {
    for (const id of ['/', '', '/a', 'a/b', '/a-b/c.d/9', '//a//b/', '/a/x.y-z']) {
      expect(isValidPathId(id)).toBe(true);
    }
    for (const id of ['/A', '/a-', '/-a', '/a/.b', '/a b', '/a/b.', '/é', '/a\u0000', '/a/*']) {
      expect(isValidPathId(id)).toBe(false);
    }
  });

  it('equals the segment-by-segment rule for any path', () => {
    const piece = fc.oneof(
      fc.constantFrom('a', 'b1', 'a-b', 'a.b', '.', '..', '-', 'x-', '-x', '', 'A', '\u0000'),
      fc.string({ maxLength: 4 }),
    );
    const path = fc.array(piece, { maxLength: 8 }).map((pieces) => pieces.join('/'));
    fc.assert(
      fc.property(fc.boolean(), path, (rooted, id) => {
        const text = rooted ? `/${id}` : id;
        expect(isValidPathId(text)).toBe(segmentsValid(text));
      }),
      { numRuns: 5000 },
    );
  });

  it('answers long ids that almost match, failing at their end', () => {
    // Thousands of characters that almost match, ending with one that does not.
    const long = `/${'a.'.repeat(20_000)}a-!/${'b'.repeat(20_000)}`;
    expect(isValidPathId(long)).toBe(false);
    expect(isValidPathId(`/${'a-'.repeat(20_000)}a`)).toBe(true);
  });
});
