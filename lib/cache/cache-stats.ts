/** Cumulative figures of the local validation cache, read by metrics at scrape time. */
export interface SessionCacheStats {
  readonly hits: number;
  readonly misses: number;
  /** Lookups that skipped the cache because the signal subscription was down or being re-established. */
  readonly bypassed: number;
  /** Entries held now. */
  readonly entries: number;
}

/** Injection token of the cache's stats; null while `localCache` is off. */
export const SESSION_CACHE_STATS = Symbol('SESSION_CACHE_STATS');
