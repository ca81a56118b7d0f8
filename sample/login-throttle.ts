import { Injectable } from '@nestjs/common';

/**
 * Failed-login throttle, on only when LOGIN_THROTTLE (failures per minute per ip + email) is set;
 * the test suites log in many times.
 */
@Injectable()
export class LoginThrottle {
  private readonly limit = Number(process.env.LOGIN_THROTTLE) || 0;
  private readonly failures = new Map<string, { count: number; since: number }>();

  blocked(key: string): boolean {
    if (this.limit <= 0) return false;
    const entry = this.failures.get(key);
    if (!entry || Date.now() - entry.since > 60_000) return false;
    return entry.count >= this.limit;
  }

  fail(key: string): void {
    if (this.limit <= 0) return;
    const entry = this.failures.get(key);
    if (!entry || Date.now() - entry.since > 60_000) this.failures.set(key, { count: 1, since: Date.now() });
    else entry.count += 1;
  }
}
