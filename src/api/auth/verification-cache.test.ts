import { describe, expect, it } from 'vitest';
import { createVerificationCache } from './verification-cache.js';

const entry = (name: string) => ({
  principal: { name, grants: [] },
  secretHash: 'h',
  checkAfter: 0,
});

describe('verification cache', () => {
  it('forgets the least recently used entry beyond its bound', () => {
    const cache = createVerificationCache({ maxEntries: 2 });
    cache.set('Bearer a', entry('a'));
    cache.set('Bearer b', entry('b'));
    expect(cache.get('Bearer a')).toBeDefined(); // a is now the most recent
    cache.set('Bearer c', entry('c'));
    expect(cache.size).toBe(2);
    expect(cache.get('Bearer b')).toBeUndefined();
    expect(cache.get('Bearer a')?.principal.name).toBe('a');
  });

  it('drops every entry of a revoked principal, whatever header proved it', () => {
    const cache = createVerificationCache({ maxEntries: 10 });
    cache.set('Bearer x', entry('team-a'));
    cache.set('token=x', entry('team-a'));
    cache.set('Bearer y', entry('team-b'));
    cache.dropPrincipal('team-a');
    expect(cache.get('Bearer x')).toBeUndefined();
    expect(cache.get('token=x')).toBeUndefined();
    expect(cache.get('Bearer y')).toBeDefined();
  });
});

describe('verification cache under churn', () => {
  it('stays within its bound and keeps an entry that is used between insertions', () => {
    const cache = createVerificationCache({ maxEntries: 100 });
    cache.set('Bearer hot', entry('hot'));
    for (let n = 0; n < 10_000; n++) {
      cache.set(`Bearer cold-${n}`, entry(`cold-${n}`));
      expect(cache.get('Bearer hot')?.principal.name).toBe('hot');
    }
    expect(cache.size).toBe(100);
  });
});
