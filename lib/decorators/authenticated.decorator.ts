import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import { SessionGuard } from '../auth/session.guard.js';
import { AUTHENTICATED_KEY } from '../session.constants.js';

/** Options of `@Authenticated()`. */
export interface AuthenticatedOptions {
  /** The session must hold at least one of these roles (403 otherwise). */
  roles?: string[];
  /**
   * Step-up: the session's last login or re-authentication must be at most this many seconds old
   * (`true`: the module's `freshAge`, default 300); otherwise 401 `insufficient_user_authentication`
   * with the RFC 9470 challenge for bearer requests.
   */
  fresh?: boolean | number;
}

/**
 * Requires a live session (401 otherwise) and, for cookie requests with unsafe methods, a CSRF
 * token. Works on a controller class or a handler. The nearest decorator decides: a handler's
 * `@Authenticated()` / `@SkipSession()` replaces the class's (its roles too), and on one level
 * `@Authenticated()` wins over `@SkipSession()`.
 * @publicApi
 * @example @Authenticated({ roles: ['admin'] })
 */
export function Authenticated(options: AuthenticatedOptions = {}) {
  const fresh = options.fresh;
  if (typeof fresh === 'number' && !(Number.isFinite(fresh) && fresh > 0)) {
    throw new TypeError('@Authenticated({ fresh }) must be true or a positive number of seconds');
  }
  return applyDecorators(
    SetMetadata(AUTHENTICATED_KEY, options),
    // SessionGuard sets the response headers itself: no interceptor, so Nest skips its rxjs
    // pipeline, about a tenth of a GET /me in the bench.
    UseGuards(SessionGuard),
  );
}
