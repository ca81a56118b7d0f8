import { ForbiddenException } from '@nestjs/common';
import type { SessionEvents } from '../events/session-events.service.js';
import { clientIp, type HttpRequestLike } from '../http/http-adapter.js';
import type { SessionHttpService } from '../http/session-http.service.js';
import type { SessionPrincipal } from '../interfaces/session-record.interface.js';
import { SESSION_REQUEST_KEY } from '../session.internal-constants.js';

/**
 * The checks after authentication, shared by `SessionGuard` and `SessionJwtStrategy` so that
 * both paths refuse the same requests.
 */

/** Roles come from the session record, never from token claims (403 otherwise). */
export function assertRoles(events: SessionEvents, principal: SessionPrincipal, required: readonly string[] | undefined, req: HttpRequestLike): void {
  if (!required || required.length === 0) return;
  if (!required.some((r) => principal.roles.includes(r))) {
    events.emit('authz_fail', { userId: principal.userId, sessionId: principal.id, ip: clientIp(req) });
    throw new ForbiddenException('Insufficient role');
  }
}

/** Whether the request needs CSRF proof: carried by the cookie, with an unsafe method. */
export function needsCsrf(http: SessionHttpService, req: HttpRequestLike, principal: SessionPrincipal): boolean {
  return principal.transport === 'cookie' && http.isUnsafe(req);
}

/** Origin / Sec-Fetch-Site check, then the session-bound token (403 otherwise). */
export function assertCsrf(http: SessionHttpService, req: HttpRequestLike, principal: SessionPrincipal): void {
  http.assertSameOrigin(req, { userId: principal.userId, sessionId: principal.id });
  if (http.csrfEnabled) http.assertCsrfToken(req, principal.id, principal.userId);
}

/** Marks a principal this module verified (a symbol: nothing outside the module can set it). */
const VERIFIED = Symbol('nestjs-jwt-session:verified');

/** The principal already verified on this request (by SessionGuard or SessionJwtStrategy), if any. */
export function verifiedPrincipal(req: HttpRequestLike): SessionPrincipal | undefined {
  return (req as unknown as Record<symbol, SessionPrincipal | undefined>)[VERIFIED];
}

/** Leaves the principal for the parameter decorators and for a later guard of the same request. */
export function attachPrincipal(req: HttpRequestLike, principal: SessionPrincipal): void {
  (req as unknown as Record<symbol, SessionPrincipal>)[VERIFIED] = principal;
  req[SESSION_REQUEST_KEY] = principal;
}
