import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { jsonTextSharing, stringifySharing } from './json-rows.js';

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

describe('jsonTextSharing', () => {
  it('writes what JSON.stringify writes for rows sharing objects at any depth', () => {
    const pool = fc.array(fc.dictionary(fc.string(), fc.jsonValue()), { minLength: 1 });
    fc.assert(
      fc.property(
        pool,
        fc.array(fc.nat()),
        fc.integer({ min: 0, max: 3 }),
        (objects, picks, depth) => {
          // Rows holding objects of the pool, some more than once, one and two levels down.
          const rows = picks.map((n) => {
            const shared = objects[n % objects.length] as object;
            return { eventType: `e${n}`, payload: { plan: shared, nested: { again: shared } } };
          });
          expect(jsonTextSharing(rows, depth)).toBe(JSON.stringify(rows));
        },
      ),
    );
  });

  it('serializes an object shared by several rows once', () => {
    let reads = 0;
    const plan = {
      id: 'd-1',
      get steps() {
        reads++;
        return [1, 2];
      },
    };
    const rows = [{ payload: { plan } }, { payload: { plan } }, { payload: { other: 1 } }];
    const text = jsonTextSharing(rows);
    // Read to count, to mark the way to it and to write it: once each, not once per row.
    expect(reads).toBe(3);
    expect(text).toBe(JSON.stringify(rows));
  });
});
