import { describe, expect, it } from 'vitest';
import { createMemoryPool } from './memory-pool.js';

const limits = { minPages: 1, maxPages: 4 };

describe('memory pool', () => {
  it('gives a memory back zeroed, of the same length', () => {
    const pool = createMemoryPool({});
    const memory = pool.take(limits, 2);
    new Uint8Array(memory.buffer).fill(7);
    pool.give(memory, limits, 2);
    const again = pool.take(limits, 2);
    expect(again).toBe(memory);
    expect(new Uint8Array(again.buffer).every((b) => b === 0)).toBe(true);
    expect(again.buffer.byteLength).toBe(2 * 65536);
  });

  it('drops a memory the guest grew, and one of another shape', () => {
    const pool = createMemoryPool({});
    const grown = pool.take(limits, 2);
    grown.grow(1);
    pool.give(grown, limits, 2);
    expect(pool.size).toBe(0);
    expect(pool.take(limits, 2)).not.toBe(grown);
    const other = pool.take({ minPages: 1, maxPages: 8 }, 2);
    pool.give(other, { minPages: 1, maxPages: 8 }, 2);
    expect(pool.take(limits, 2)).not.toBe(other);
  });

  it('keeps no more than its bounds', () => {
    const pool = createMemoryPool({ maxPerShape: 2, maxBytes: 3 * 2 * 65536 });
    const memories = Array.from({ length: 5 }, () => pool.take(limits, 2));
    for (const memory of memories) pool.give(memory, limits, 2);
    expect(pool.size).toBe(2);
    const big = { minPages: 1, maxPages: 8 };
    for (const memory of [pool.take(big, 2), pool.take(big, 2)]) pool.give(memory, big, 2);
    expect(pool.size).toBe(3); // 3 memories of 2 pages: the byte bound
  });
});
