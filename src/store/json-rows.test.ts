import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { stringifySharing } from './json-rows.js';

describe('stringifySharing', () => {
  it('writes what JSON.stringify writes, at any depth', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer({ min: -1, max: 4 }), (value, depth) => {
        expect(stringifySharing(value, { seen: new Map(), depth })).toBe(JSON.stringify(value));
      }),
    );
  });

  it('skips what JSON.stringify skips and keeps what has toJSON', () => {
    const value = {
      a: undefined,
      f: () => 1,
      s: Symbol('s'),
      at: new Date(0),
      inner: { b: undefined, n: null, list: [undefined, 1] },
    };
    expect(stringifySharing(value, { seen: new Map(), depth: 3 })).toBe(JSON.stringify(value));
  });

  it('serializes an object held by several rows once, with the same text each time', () => {
    const plan = { id: 'd-1', target: { apps: [{ id: '/a' }] } };
    const rows = [
      { eventType: 'deployment_info', payload: { plan } },
      { eventType: 'deployment_success', payload: { plan } },
    ];
    const seen = new Map<object, string>();
    const text = `[${rows.map((row) => stringifySharing(row, { seen, depth: 2 })).join(',')}]`;
    expect(text).toBe(JSON.stringify(rows));
    expect(seen.get(plan)).toBe(JSON.stringify(plan));
  });
});
