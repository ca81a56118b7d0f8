/**
 * The module's time source. Internal, not an option: production always runs on `SYSTEM_CLOCK`;
 * tests replace the `SESSION_CLOCK` provider (`overrideProvider`) to move time by hand.
 */
export interface SessionClock {
  /** Epoch milliseconds. Called unbound, so an arrow function or `Date.now`. */
  readonly now: () => number;
  /**
   * Whose clock decides expiry, idle, grace and pruning on Redis. `'server'`: Redis TIME, so
   * replicas with skewed clocks agree. `'local'`: `now`, for tests that move one fake clock for
   * every replica; in production a skewed replica would then end or keep sessions wrongly.
   */
  readonly store: 'server' | 'local';
}

/** Real time; Redis decides liveness with its own TIME. */
export const SYSTEM_CLOCK: SessionClock = Object.freeze({ now: Date.now, store: 'server' });
