import { ForbiddenException, Inject, Injectable } from '@nestjs/common';
import { SessionEvents } from '../events/session-events.service.js';
import { clientIp, header, type HttpRequestLike, isHttps } from '../http/http-request.js';
import type { SessionPrincipal } from '../interfaces/session-record.interface.js';
import type { ResolvedSessionOptions } from '../session-options.js';
import { SESSION_RESOLVED_OPTIONS } from '../session.internal-constants.js';
import { CsrfService } from './csrf.service.js';

/** RFC 9110 safe methods: everything else (POST, PUT, DELETE, PROPPATCH, MOVE, a method Nest's @All() accepts…) needs CSRF proof. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/**
 * When a request needs CSRF proof and whether it has it: the `Origin` / `Sec-Fetch-Site` check
 * (OWASP CSRF cheat sheet, "Fetch Metadata") and the session-bound token (`CsrfService`).
 * Bearer requests and safe methods are exempt. Refusals are 403 with a `csrf_fail` audit event.
 * @publicApi
 */
@Injectable()
export class SessionCsrfPolicy {
  constructor(
    @Inject(SESSION_RESOLVED_OPTIONS) private readonly options: ResolvedSessionOptions,
    private readonly tokens: CsrfService,
    private readonly events: SessionEvents,
  ) {}

  /** Whether CSRF tokens are required (the origin check always runs). */
  get tokenRequired(): boolean {
    return this.options.csrf.enabled;
  }

  /** True for unsafe methods, which need CSRF protection when authenticated by cookie. */
  isUnsafe(req: HttpRequestLike): boolean {
    return !SAFE_METHODS.has(req.method.toUpperCase());
  }

  /** Whether the request needs CSRF proof: carried by the cookie, with an unsafe method. */
  applies(req: HttpRequestLike, principal: SessionPrincipal): boolean {
    return principal.transport === 'cookie' && this.isUnsafe(req);
  }

  /** The origin check, then the session-bound token when tokens are on (403 otherwise). */
  assert(req: HttpRequestLike, principal: SessionPrincipal): void {
    const impersonator = principal.impersonator?.id;
    this.assertSameOrigin(req, { userId: principal.userId, sessionId: principal.id, impersonator });
    if (this.tokenRequired) this.assertToken(req, principal.id, principal.userId, impersonator);
  }

  /**
   * Fetch-metadata and Origin check. A request with neither header (a non-browser client) passes
   * here and still needs the CSRF token.
   */
  assertSameOrigin(
    req: HttpRequestLike,
    who: { userId?: string; sessionId?: string; impersonator?: string } = {},
  ): void {
    const site = header(req, 'sec-fetch-site');
    const origin = header(req, 'origin');
    let ok: boolean;
    if (origin === undefined) ok = site !== 'cross-site' && site !== 'same-site';
    else ok = site !== 'cross-site' && this.originAllowed(req, origin);
    if (!ok) {
      this.events.emit('csrf_fail', { ...who, ip: clientIp(req), reason: 'origin' });
      throw new ForbiddenException('Cross-origin request refused (CSRF protection)');
    }
  }

  /** Whether the request's CSRF header is a token of this session. */
  tokenMatches(req: HttpRequestLike, sessionId: string): boolean {
    return this.tokens.verify(sessionId, header(req, this.options.csrf.headerName));
  }

  /** Checks the CSRF header against the session (throws 403). */
  assertToken(req: HttpRequestLike, sessionId: string, userId?: string, impersonator?: string): void {
    if (!this.tokenMatches(req, sessionId)) {
      this.events.emit('csrf_fail', { userId, sessionId, ip: clientIp(req), reason: 'token', impersonator });
      throw new ForbiddenException(`Missing or invalid ${this.options.csrf.headerName} header (CSRF protection)`);
    }
  }

  private originAllowed(req: HttpRequestLike, origin: string): boolean {
    // Opaque origins (sandboxed frames, data: URLs) can be sent by any page, so they never pass.
    if (origin === 'null') return false;
    if (this.options.csrf.allowedOrigins.has(origin)) return true;
    // The raw Host header with its port: the adapter's hostname drops the port, which an Origin keeps.
    const host = header(req, 'host');
    if (!host) return false;
    // Behind a TLS-terminating proxy without trust proxy the app sees http; accept both schemes for its own host.
    return origin === `https://${host}` || origin === `${isHttps(req) ? 'https' : 'http'}://${host}`;
  }
}
