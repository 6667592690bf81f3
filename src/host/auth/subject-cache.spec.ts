import { describe, expect, it } from '@jest/globals';
import { SubjectCache } from './subject-cache.js';

const subject = (id: string) => ({ id, username: id, roles: ['member'] });

describe('SubjectCache', () => {
  it('forgets entries after the TTL', () => {
    let now = 0;
    const cache = new SubjectCache({ ttlMs: 5000, maxEntries: 10, now: () => now });
    cache.set('h1', subject('u1'));
    now = 4999;
    expect(cache.get('h1')?.id).toBe('u1');
    now = 5000;
    expect(cache.get('h1')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('stays bounded, evicting the least recently used', () => {
    const cache = new SubjectCache({ ttlMs: 5000, maxEntries: 2, now: () => 0 });
    cache.set('h1', subject('u1'));
    cache.set('h2', subject('u2'));
    cache.get('h1');
    cache.set('h3', subject('u3'));
    expect(cache.size).toBe(2);
    expect(cache.get('h2')).toBeUndefined();
    expect(cache.get('h1')?.id).toBe('u1');
    expect(cache.get('h3')?.id).toBe('u3');
  });
});
