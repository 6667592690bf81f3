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

  it('drops every entry of one user, and caps an entry at the given life', () => {
    let now = 0;
    const cache = new SubjectCache({ ttlMs: 5000, maxEntries: 10, now: () => now });
    cache.set('h1', subject('u1'));
    cache.set('h2', subject('u1'));
    cache.set('h3', subject('u2'), 100);
    cache.deleteUser('u1');
    expect([cache.get('h1'), cache.get('h2')]).toEqual([undefined, undefined]);
    expect(cache.get('h3')?.id).toBe('u2');
    now = 100;
    expect(cache.get('h3')).toBeUndefined();
    cache.set('h4', subject('u3'));
    cache.clear();
    expect(cache.size).toBe(0);
  });

  it('does not keep a subject read before an invalidation that came in during the lookup', () => {
    const cache = new SubjectCache({ ttlMs: 5000, maxEntries: 10, now: () => 0 });
    const before = cache.generation;
    cache.deleteUser('u1'); // the revocation's notification, while the lookup was in flight
    cache.set('h1', subject('u1'), Infinity, before);
    expect(cache.get('h1')).toBeUndefined();
    cache.set('h1', subject('u1'), Infinity, cache.generation);
    expect(cache.get('h1')?.id).toBe('u1');
  });
});
