import { ForbiddenException } from '@nestjs/common';
import type { SessionEvents } from '../events/session-events.service.js';
import { clientIp, type HttpRequestLike, type HttpResponseLike, requestSlots } from '../http/http-request.js';
import type { SessionTransport } from '../http/session-transport.js';
import type { SessionPrincipal } from '../interfaces/session-record.interface.js';
import { SESSION_REQUEST_KEY } from '../session.internal-constants.js';
import type { SessionService } from '../session.service.js';

/**
 * The checks after authentication, shared by `SessionGuard` and `SessionJwtStrategy` so that
 * both paths refuse the same requests.
 */

/** Roles come from the session record, never from token claims (403 otherwise). */
export function assertRoles(
  events: SessionEvents,
  principal: SessionPrincipal,
  required: readonly string[] | undefined,
  req: HttpRequestLike,
): void {
  if (!required || required.length === 0) return;
  if (!required.some((r) => principal.roles.includes(r))) {
    events.emit('authz_fail', {
      userId: principal.userId,
      sessionId: principal.id,
      ip: clientIp(req),
      impersonator: principal.impersonator?.id,
    });
    throw new ForbiddenException('Insufficient role');
  }
}

/** Silent renewal: a new access cookie when the presented one is close to expiry (`silentRenewal`). */
export function renewAccessCookieIfDue(
  transport: SessionTransport,
  sessions: SessionService,
  res: HttpResponseLike,
  principal: SessionPrincipal,
): void {
  if (!transport.renewalDue(principal)) return;
  const renewed = sessions.renewAccessToken(principal);
  transport.setAccessCookie(res, renewed.token, renewed.expiresAt * 1000);
}

/** Marks a principal this module verified (a symbol: nothing outside the module can set it). */
const VERIFIED = Symbol('nestjs-jwt-session:verified');

/** The principal already verified on this request (by SessionGuard or SessionJwtStrategy), if any. */
export function verifiedPrincipal(req: HttpRequestLike): SessionPrincipal | undefined {
  return requestSlots(req)[VERIFIED] as SessionPrincipal | undefined;
}

/** Leaves the principal for the parameter decorators and for a later guard of the same request. */
export function attachPrincipal(req: HttpRequestLike, principal: SessionPrincipal): void {
  const slots = requestSlots(req);
  slots[VERIFIED] = principal;
  slots[SESSION_REQUEST_KEY] = principal;
}
