import { SessionConfigError } from '../session.errors.js';

/**
 * Device-bound sessions (W3C DBSC). Off by default.
 * @publicApi
 */
export interface SessionDbscOptions {
  /**
   * Offer DBSC on cookie logins (`Secure-Session-Registration`) and serve `<prefix>/dbsc/register`
   * and `<prefix>/dbsc/refresh`. A bound session's access cookie is then renewed only against a
   * proof from the device key, never by the refresh cookie or silent renewal. @default false
   */
  enabled?: boolean;
  /** Seconds a registration or refresh challenge stays usable. @default 300 */
  challengeMaxAge?: number;
}

export interface ResolvedDbscOptions {
  enabled: boolean;
  challengeMaxAgeMs: number;
}

/** Internal injection token of the resolved DBSC options. */
export const DBSC_OPTIONS = Symbol('SESSION:DBSC_OPTIONS');

export function resolveDbscOptions(options: SessionDbscOptions | undefined): ResolvedDbscOptions {
  const maxAge = options?.challengeMaxAge ?? 300;
  if (!Number.isInteger(maxAge) || maxAge < 10 || maxAge > 3600) {
    throw new SessionConfigError('dbsc.challengeMaxAge must be a whole number of seconds between 10 and 3600');
  }
  return { enabled: options?.enabled === true, challengeMaxAgeMs: maxAge * 1000 };
}
