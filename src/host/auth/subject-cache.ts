import type { PrebuildsSubject } from 'nest-prebuilds';

export interface SubjectCacheOptions {
  ttlMs: number;
  maxEntries: number;
  /** Monotonic milliseconds; injectable for tests. Wall-clock jumps must not extend or cut an entry's life. */
  now?: () => number;
}

/**
 * A small LRU of token digest → subject, so that a client's burst of requests costs one query, not one each.
 * A revocation, role change or user removal drops the user's entries on every replica at once (AuthInvalidation,
 * through NOTIFY); the `ttlMs` life of an entry is only the fallback for a missed notification. Only hits are
 * cached; unknown tokens always go to the database, so guessing cannot fill the cache.
 */
export class SubjectCache {
  private readonly entries = new Map<string, { subject: PrebuildsSubject; expiresAt: number }>();
  /**
   * Bumped by every invalidation. A lookup reads it before going to the database and hands it to `set`, which drops
   * the entry when an invalidation came in meanwhile: a subject read just before a revocation committed must not
   * be cached after the revocation's notification was handled.
   */
  private invalidations = 0;
  private readonly now: () => number;

  constructor(private readonly options: SubjectCacheOptions) {
    this.now = options.now ?? (() => performance.now());
  }

  get(tokenHash: string): PrebuildsSubject | undefined {
    const entry = this.entries.get(tokenHash);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(tokenHash);
      return undefined;
    }
    // Map keeps insertion order: re-inserting marks the entry most recently used.
    this.entries.delete(tokenHash);
    this.entries.set(tokenHash, entry);
    return entry.subject;
  }

  get generation(): number {
    return this.invalidations;
  }

  /**
   * `maxTtlMs` shortens the entry's life below `ttlMs` (a token that expires sooner); `generation`, when given, is
   * the value read before the lookup, and the entry is not kept if an invalidation happened since.
   */
  set(tokenHash: string, subject: PrebuildsSubject, maxTtlMs = Infinity, generation?: number): void {
    this.entries.delete(tokenHash);
    if (generation !== undefined && generation !== this.invalidations) return;
    const ttlMs = Math.max(0, Math.min(this.options.ttlMs, maxTtlMs));
    this.entries.set(tokenHash, { subject, expiresAt: this.now() + ttlMs });
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  /** Drops every entry of one user (its tokens, whatever their digest). */
  deleteUser(userId: string): void {
    this.invalidations++;
    for (const [tokenHash, entry] of this.entries) {
      if (entry.subject.id === userId) this.entries.delete(tokenHash);
    }
  }

  clear(): void {
    this.invalidations++;
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
