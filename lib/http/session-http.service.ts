import { Injectable, UnsupportedMediaTypeException } from '@nestjs/common';
import { SessionCsrfPolicy } from '../csrf/csrf-policy.js';
import { SessionDbscService } from '../dbsc/dbsc.service.js';
import { SessionEvents } from '../events/session-events.service.js';
import type { SessionPrincipal, SessionUser } from '../interfaces/session-record.interface.js';
import { SessionStoreUnavailableError } from '../session.errors.js';
import { SessionUnauthorizedError } from '../session.errors.js';
import { SessionService, type IssuedTokens, type SessionMeta } from '../session.service.js';
import { AMBIGUOUS } from './cookies.js';
import { clientIp, header, type HttpRequestLike, type HttpResponseLike } from './http-request.js';
import { SessionTransport } from './session-transport.js';

/** Body of a cookie-transport login/refresh answer: tokens live only in cookies. @publicApi */
export interface CookieTokenAnswer {
  csrfToken: string;
  accessTokenExpiresAt: string;
}

/** Body of a header-transport login/refresh answer. @publicApi */
export interface HeaderTokenAnswer {
  accessToken: string;
  refreshToken: string;
  accessTokenExpiresAt: string;
}

/** `application/json` with optional parameters (charset); media types are case-insensitive. */
const JSON_MEDIA_TYPE = /^[ \t]*application\/json[ \t]*(;|$)/i;

/**
 * What an app's own routes call: `login()` from its login route, `refresh()` and
 * `endCookieSession()` when it mounts its own refresh and logout routes (`routes: false`).
 * `res` is what `@Res({ passthrough: true })` gives (Express `Response` or Fastify `FastifyReply`);
 * it is typed `unknown` so a controller needs no platform types, and is only ever written through
 * Nest's HTTP adapter. Cookies and headers: `SessionTransport`; CSRF: `SessionCsrfPolicy`.
 * @publicApi
 */
@Injectable()
export class SessionHttpService {
  constructor(
    private readonly sessions: SessionService,
    private readonly transport: SessionTransport,
    private readonly csrf: SessionCsrfPolicy,
    private readonly events: SessionEvents,
    private readonly dbsc: SessionDbscService,
  ) {}

  /**
   * Creates a session for a user the app has authenticated and answers in the transport the
   * client asked for (`X-Auth-Transport: header` → tokens in the body; otherwise HttpOnly cookies).
   * Any session the request still carries is ended first (no fixation).
   */
  async login(
    req: HttpRequestLike,
    res: unknown,
    user: SessionUser,
    meta: Pick<SessionMeta, 'data'> = {},
  ): Promise<CookieTokenAnswer | HeaderTokenAnswer> {
    const { out, headerTransport, ip } = this.beginTokenAnswer(req, res);
    try {
      await this.endPresentedSession(req, ip);
      const tokens = await this.sessions.create(user, { userAgent: header(req, 'user-agent'), ip, data: meta.data });
      this.events.emit('authn_login_success', { userId: user.id, sessionId: tokens.sessionId, ip });
      if (!headerTransport) this.dbsc.offerRegistration(out, { userId: user.id, sessionId: tokens.sessionId });
      return this.answer(out, tokens, headerTransport);
    } catch (err) {
      throw this.transport.refuse(out, err, false);
    }
  }

  /**
   * Starts an impersonation session as `target` for the admin `actor` (see
   * `SessionService.impersonate`) and answers like `login()` in the transport the client asked
   * for. A cookie client's own session ends (its cookies are replaced, so nothing could use it
   * again); a header client keeps its tokens. The app checks the actor's role and freshness first.
   */
  async impersonate(
    req: HttpRequestLike,
    res: unknown,
    actor: SessionPrincipal,
    target: SessionUser,
  ): Promise<CookieTokenAnswer | HeaderTokenAnswer> {
    const { out, headerTransport, ip } = this.beginTokenAnswer(req, res);
    try {
      const tokens = await this.sessions.impersonate(actor, target, { userAgent: header(req, 'user-agent'), ip });
      if (!headerTransport && actor.transport === 'cookie') {
        await this.sessions.revoke(actor.userId, actor.id, 'relogin', ip);
      }
      return this.answer(out, tokens, headerTransport);
    } catch (err) {
      throw this.transport.refuse(out, err, actor.transport === 'bearer');
    }
  }

  /**
   * Rotates the refresh token: from a JSON body `{ refreshToken }` (header transport) or from the
   * refresh cookie with a CSRF token. What the module's `POST <prefix>/refresh` runs.
   */
  async refresh(req: HttpRequestLike, res: unknown, body: unknown): Promise<CookieTokenAnswer | HeaderTokenAnswer> {
    const out = res as HttpResponseLike;
    this.transport.assertHttps(req);
    this.transport.protectTokenAnswer(out);
    this.assertJsonBody(req);
    const bodyToken =
      typeof body === 'object' && body !== null ? (body as { refreshToken?: unknown }).refreshToken : undefined;
    const ip = clientIp(req);
    if (bodyToken !== undefined) {
      try {
        return this.answer(out, await this.sessions.refresh(bodyToken, ip), true);
      } catch (err) {
        throw this.transport.refuse(out, err, true);
      }
    }
    const copies = this.transport.refreshCookieCopies(req);
    if (copies === AMBIGUOUS || copies.length === 0) {
      throw this.transport.refuse(
        out,
        new SessionUnauthorizedError(copies === AMBIGUOUS ? 'duplicate_cookie' : 'no_refresh_token'),
        false,
      );
    }
    this.csrf.assertSameOrigin(req);
    const cookie = this.pickRefreshCookie(req, out, copies);
    try {
      return this.answer(out, await this.sessions.refresh(cookie, ip), false);
    } catch (err) {
      // A device-bound session keeps its cookies: only its DBSC refresh renews them, and a stray call must not end it.
      if (err instanceof SessionUnauthorizedError && err.reason !== 'refresh_bound') this.transport.clearCookies(out);
      throw this.transport.refuse(out, err, false);
    }
  }

  /**
   * Ends a cookie client's session in its browser (after `SessionService.revoke`): expires both
   * cookies and sends `Clear-Site-Data: "cookies"` unless `cookies.clearSiteData` is off.
   */
  endCookieSession(res: unknown): void {
    this.transport.endCookieSession(res as HttpResponseLike);
  }

  /**
   * Refuses (415) a body that is not `application/json`. An HTML form can post urlencoded,
   * multipart or text/plain bodies cross-site without a preflight, and old browsers send neither
   * `Origin` nor `Sec-Fetch-Site` with it (login CSRF). A request without a body passes.
   * `login()` and `refresh()` call it; call it first in your login route to refuse before
   * checking credentials.
   */
  assertJsonBody(req: HttpRequestLike): void {
    const type = header(req, 'content-type');
    if (type === undefined ? !hasBody(req) : JSON_MEDIA_TYPE.test(type)) return;
    throw new UnsupportedMediaTypeException('The body must be application/json');
  }

  /**
   * The copy of the refresh cookie to rotate: one whose signature verifies and, with CSRF on, whose
   * session the presented CSRF token belongs to. So a planted copy (garbage, or the planter's own
   * valid token) no longer locks the user out of refresh. Only signatures are checked here: no
   * store round trip, and nothing is rotated until one copy is chosen.
   */
  private pickRefreshCookie(req: HttpRequestLike, res: HttpResponseLike, copies: string[]): string {
    // A single copy with CSRF off goes straight to the refresh, which verifies it.
    if (copies.length === 1 && !this.csrf.tokenRequired) return copies[0];
    const verified: Array<{ token: string; userId: string; sessionId: string }> = [];
    for (const token of copies) {
      const peek = this.sessions.peekRefreshSession(token);
      if (peek) verified.push({ token, ...peek });
    }
    if (verified.length === 0) {
      this.transport.clearCookies(res);
      throw this.transport.refuse(res, new SessionUnauthorizedError('refresh_invalid'), false);
    }
    if (!this.csrf.tokenRequired) {
      // Without a CSRF token nothing says which session the client means.
      if (new Set(verified.map((v) => v.sessionId)).size > 1) {
        throw this.transport.refuse(res, new SessionUnauthorizedError('duplicate_cookie'), false);
      }
      return verified[0].token;
    }
    const match = verified.find((v) => this.csrf.tokenMatches(req, v.sessionId));
    if (match) return match.token;
    // Refuses with 403 and the audit event, naming the first verified session.
    const first = verified[0];
    this.csrf.assertToken(req, first.sessionId, first.userId);
    return first.token;
  }

  /** The checks before a new session's tokens are issued (login, impersonation), in the order that refuses cheapest first. */
  private beginTokenAnswer(
    req: HttpRequestLike,
    res: unknown,
  ): { out: HttpResponseLike; headerTransport: boolean; ip: string } {
    const out = res as HttpResponseLike;
    this.transport.protectTokenAnswer(out);
    this.assertJsonBody(req);
    // Never hand out tokens over plain HTTP when HTTPS is required.
    this.transport.assertHttps(req);
    const headerTransport = this.transport.wantsHeaderTransport(req);
    // Cookie logins are login-CSRF targets; a header client holds its tokens itself.
    if (!headerTransport) this.csrf.assertSameOrigin(req);
    return { out, headerTransport, ip: clientIp(req) };
  }

  private answer(
    res: HttpResponseLike,
    tokens: IssuedTokens,
    headerTransport: boolean,
  ): CookieTokenAnswer | HeaderTokenAnswer {
    const accessTokenExpiresAt = tokens.accessTokenExpiresAt.toISOString();
    if (headerTransport) {
      return { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, accessTokenExpiresAt };
    }
    this.transport.setAccessCookie(res, tokens.accessToken, tokens.accessTokenExpiresAt.getTime());
    this.transport.setRefreshCookie(res, tokens.refreshToken, tokens.refreshTokenExpiresAt.getTime());
    return { csrfToken: tokens.csrfToken, accessTokenExpiresAt };
  }

  private async endPresentedSession(req: HttpRequestLike, ip: string): Promise<void> {
    let presented: { userId: string; sessionId: string } | null = null;
    try {
      const cred = this.transport.credential(req);
      if (cred) {
        const p = await this.sessions.authenticate(cred.token, cred.transport, ip);
        presented = { userId: p.userId, sessionId: p.id };
      }
    } catch (err) {
      if (err instanceof SessionStoreUnavailableError) throw err;
    }
    if (!presented) {
      const copies = this.transport.refreshCookieCopies(req);
      if (copies !== AMBIGUOUS) {
        const sessions = new Map<string, { userId: string; sessionId: string }>();
        for (const token of copies) {
          const peek = this.sessions.peekRefreshSession(token);
          if (peek) sessions.set(peek.sessionId, peek);
        }
        // Only an unambiguous session is ended: a planted copy must not choose which one.
        if (sessions.size === 1) presented = [...sessions.values()][0]!;
      }
    }
    if (presented) await this.sessions.revoke(presented.userId, presented.sessionId, 'relogin', ip);
  }
}

function hasBody(req: HttpRequestLike): boolean {
  const length = header(req, 'content-length');
  return header(req, 'transfer-encoding') !== undefined || (length !== undefined && length.trim() !== '0');
}
