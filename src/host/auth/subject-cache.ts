import type { PrebuildsSubject } from 'nest-prebuilds';

export interface SubjectCacheOptions {
  ttlMs: number;
  maxEntries: number;
  /** Monotonic milliseconds; injectable for tests. Wall-clock jumps must not extend or cut an entry's life. */
  now?: () => number;
}

/**
 * A small LRU of token digest → subject, so that a client's burst of requests costs one query, not one each.
 * Entries live `ttlMs`: a token removed or a role changed in the database takes effect within that time on every
 * replica. Only hits are cached; unknown tokens always go to the database, so guessing cannot fill the cache.
 */
export class SubjectCache {
  private readonly entries = new Map<string, { subject: PrebuildsSubject; expiresAt: number }>();
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

  set(tokenHash: string, subject: PrebuildsSubject): void {
    this.entries.delete(tokenHash);
    this.entries.set(tokenHash, { subject, expiresAt: this.now() + this.options.ttlMs });
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
