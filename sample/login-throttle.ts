import { Injectable } from '@nestjs/common';
import { envInteger } from './session.config.js';

const WINDOW_MS = 60_000;
/** Bounds the map when many ip + email pairs fail at once (a spray); the oldest go first. */
const MAX_KEYS = 10_000;

/**
 * Failed-login throttle, on only when LOGIN_THROTTLE (failures per minute per ip + email) is set;
 * the test suites log in many times.
 */
@Injectable()
export class LoginThrottle {
  private readonly limit = envInteger('LOGIN_THROTTLE', 0);
  private readonly failures = new Map<string, { count: number; since: number }>();

  blocked(key: string): boolean {
    if (this.limit <= 0) return false;
    const entry = this.failures.get(key);
    if (!entry || Date.now() - entry.since > WINDOW_MS) return false;
    return entry.count >= this.limit;
  }

  fail(key: string): void {
    if (this.limit <= 0) return;
    const now = Date.now();
    const entry = this.failures.get(key);
    if (entry && now - entry.since <= WINDOW_MS) {
      entry.count += 1;
      return;
    }
    this.failures.delete(key);
    if (this.failures.size >= MAX_KEYS) this.prune(now);
    this.failures.set(key, { count: 1, since: now });
  }

  /** Number of tracked ip + email pairs (tests). */
  get size(): number {
    return this.failures.size;
  }

  private prune(now: number): void {
    for (const [key, entry] of this.failures) {
      if (now - entry.since > WINDOW_MS) this.failures.delete(key);
    }
    // Still full: drop the oldest windows (insertion order).
    for (const key of this.failures.keys()) {
      if (this.failures.size < MAX_KEYS) break;
      this.failures.delete(key);
    }
  }
}
