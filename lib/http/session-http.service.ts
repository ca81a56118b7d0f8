import {
  ForbiddenException,
  HttpException,
  Inject,
  Injectable,
  Logger,
  OnModuleInit,
  ServiceUnavailableException,
  UnauthorizedException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import type { SessionPrincipal, SessionUser } from '../interfaces/session-record.interface.js';
import { SessionStoreUnavailableError } from '../session.errors.js';
import type { ResolvedSessionOptions } from '../session-options.js';
import { SESSION_RESOLVED_OPTIONS } from '../session.internal-constants.js';
import { SessionUnauthorizedError } from '../session.errors.js';
import { SessionService, type IssuedTokens, type SessionMeta } from '../session.service.js';
import { SessionEvents } from '../events/session-events.service.js';
import { AMBIGUOUS, readCookieCopies, readCookies, serializeCookie } from './cookies.js';
import { appendSetCookie, clientIp, header, type HttpRequestLike, isHttps, setHeader } from './http-adapter.js';

/** The credential a request carries. */
export type RequestCredential = { token: string; transport: 'cookie' | 'bearer' } | null;

/** Body of a cookie-transport login/refresh answer: tokens live only in cookies. */
export interface CookieTokenAnswer {
  csrfToken: string;
  accessTokenExpiresAt: string;
}

/** Body of a header-transport login/refresh answer. */
export interface HeaderTokenAnswer {
  accessToken: string;
  refreshToken: string;
  accessTokenExpiresAt: string;
}

/** RFC 9110 safe methods: everything else (POST, PUT, DELETE, PROPPATCH, MOVE, a method Nest's @All() accepts…) needs CSRF proof. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);
const RETRY_AFTER_SECONDS = '2';
/**
 * Refresh-cookie copies tried at most. A sibling subdomain can plant about four copies per parent
 * domain (Path=/, /auth, /auth/, /auth/refresh); more than this is refused as before.
 */
const MAX_REFRESH_COOKIE_COPIES = 8;
/** `application/json` with optional parameters (charset); media types are case-insensitive. */
const JSON_MEDIA_TYPE = /^[ \t]*application\/json[ \t]*(;|$)/i;
const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;

/**
 * HTTP side of sessions: cookies, header transport, CSRF and origin checks, and the mapping of
 * session errors to status codes. Apps call `login()` from their own login route.
 * @publicApi
 */
@Injectable()
export class SessionHttpService implements OnModuleInit {
  private readonly logger = new Logger('SessionModule');

  constructor(
    @Inject(SESSION_RESOLVED_OPTIONS) private readonly options: ResolvedSessionOptions,
    private readonly sessions: SessionService,
    private readonly events: SessionEvents,
  ) {}

  onModuleInit(): void {
    if (!this.options.cookies.secure) {
      this.logger.warn(
        'cookies.secure is false: session cookies are sent over plain HTTP without name prefixes. Use this only for local development.',
      );
    }
  }

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
    this.tokenAnswerHeaders(res);
    this.assertJsonBody(req);
    // Never hand out tokens over plain HTTP when HTTPS is required.
    this.assertHttps(req);
    const headerTransport = this.wantsHeaderTransport(req);
    if (!headerTransport) this.assertSameOrigin(req);
    const ip = clientIp(req);
    try {
      await this.endPresentedSession(req, ip);
      const tokens = await this.sessions.create(user, { userAgent: header(req, 'user-agent'), ip, data: meta.data });
      this.events.emit('authn_login_success', { userId: user.id, sessionId: tokens.sessionId, ip });
      return this.answer(res, tokens, headerTransport);
    } catch (err) {
      throw this.toHttpError(err, res, false);
    }
  }

  /** Handles `POST <prefix>/refresh` for both transports. */
  async refresh(req: HttpRequestLike, res: unknown, body: unknown): Promise<CookieTokenAnswer | HeaderTokenAnswer> {
    this.tokenAnswerHeaders(res);
    this.assertJsonBody(req);
    const bodyToken = typeof body === 'object' && body !== null ? (body as { refreshToken?: unknown }).refreshToken : undefined;
    const ip = clientIp(req);
    if (bodyToken !== undefined) {
      try {
        return this.answer(res, await this.sessions.refresh(bodyToken, ip), true);
      } catch (err) {
        throw this.toHttpError(err, res, true);
      }
    }
    const copies = this.refreshCookieCopies(req);
    if (copies === AMBIGUOUS || copies.length === 0) {
      throw this.toHttpError(new SessionUnauthorizedError(copies === AMBIGUOUS ? 'duplicate_cookie' : 'no_refresh_token'), res, false);
    }
    this.assertSameOrigin(req);
    const cookie = this.pickRefreshCookie(req, res, copies);
    try {
      return this.answer(res, await this.sessions.refresh(cookie, ip), false);
    } catch (err) {
      if (err instanceof SessionUnauthorizedError) this.clearCookies(res);
      throw this.toHttpError(err, res, false);
    }
  }

  /** The refresh cookie's copies; a sibling subdomain can plant more (`__Secure-` allows `Domain`). */
  private refreshCookieCopies(req: HttpRequestLike): string[] | typeof AMBIGUOUS {
    return readCookieCopies(header(req, 'cookie'), this.options.cookies.refreshName, MAX_REFRESH_COOKIE_COPIES);
  }

  /**
   * The copy of the refresh cookie to rotate: one whose signature verifies and, with CSRF on, whose
   * session the presented CSRF token belongs to. So a planted copy (garbage, or the planter's own
   * valid token) no longer locks the user out of refresh. Only signatures are checked here: no
   * store round trip, and nothing is rotated until one copy is chosen.
   */
  private pickRefreshCookie(req: HttpRequestLike, res: unknown, copies: string[]): string {
    // A single copy with CSRF off goes straight to the refresh, which verifies it.
    if (copies.length === 1 && !this.options.csrf.enabled) return copies[0]!;
    const verified: Array<{ token: string; userId: string; sessionId: string }> = [];
    for (const token of copies) {
      const peek = this.sessions.peekRefreshSession(token);
      if (peek) verified.push({ token, ...peek });
    }
    if (verified.length === 0) {
      this.clearCookies(res);
      throw this.toHttpError(new SessionUnauthorizedError('refresh_invalid'), res, false);
    }
    if (!this.options.csrf.enabled) {
      // Without a CSRF token nothing says which session the client means.
      if (new Set(verified.map((v) => v.sessionId)).size > 1) {
        throw this.toHttpError(new SessionUnauthorizedError('duplicate_cookie'), res, false);
      }
      return verified[0]!.token;
    }
    const presented = header(req, this.options.csrf.headerName);
    const match = verified.find((v) => this.sessions.verifyCsrfToken(v.sessionId, presented));
    if (match) return match.token;
    // Refuses with 403 and the audit event, naming the first verified session.
    const first = verified[0]!;
    this.assertCsrfToken(req, first.sessionId, first.userId);
    return first.token;
  }

  private wantsHeaderTransport(req: HttpRequestLike): boolean {
    return header(req, 'x-auth-transport')?.toLowerCase() === 'header';
  }

  private answer(res: unknown, tokens: IssuedTokens, headerTransport: boolean): CookieTokenAnswer | HeaderTokenAnswer {
    const accessTokenExpiresAt = tokens.accessTokenExpiresAt.toISOString();
    if (headerTransport) {
      return { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, accessTokenExpiresAt };
    }
    this.setAccessCookie(res, tokens.accessToken, tokens.accessTokenExpiresAt.getTime());
    const c = this.options.cookies;
    appendSetCookie(
      res,
      serializeCookie(c.refreshName, tokens.refreshToken, {
        maxAge: (tokens.refreshTokenExpiresAt.getTime() - this.options.clock()) / 1000,
        path: c.refreshPath,
        sameSite: c.refreshSameSite,
        secure: c.secure,
        domain: c.domain,
      }),
    );
    return { csrfToken: tokens.csrfToken, accessTokenExpiresAt };
  }

  /** Sets the access cookie; its Max-Age never outlives the token. `expiresAt` in ms. */
  setAccessCookie(res: unknown, token: string, expiresAt: number): void {
    const c = this.options.cookies;
    appendSetCookie(
      res,
      serializeCookie(c.accessName, token, {
        maxAge: (expiresAt - this.options.clock()) / 1000,
        path: '/',
        sameSite: c.accessSameSite,
        secure: c.secure,
        domain: c.domain,
      }),
    );
  }

  /**
   * Silent renewal of a nearly expired access cookie, once authenticated (the guard has already
   * set the headers with `protectAuthenticated`). Called once per request, by `SessionGuard`.
   */
  decorateAuthenticatedResponse(res: unknown, principal: SessionPrincipal): void {
    const renewal = this.options.silentRenewal;
    if (renewal > 0 && principal.transport === 'cookie' && principal.tokenExpiresAt * 1000 - this.options.clock() < renewal * 1000) {
      const renewed = this.sessions.renewAccessToken(principal);
      this.setAccessCookie(res, renewed.token, renewed.expiresAt * 1000);
    }
  }

  /** Expires both cookies with the attributes they were set with. */
  clearCookies(res: unknown): void {
    const c = this.options.cookies;
    const base = { maxAge: 0, secure: c.secure };
    appendSetCookie(res, serializeCookie(c.accessName, '', { ...base, path: '/', sameSite: c.accessSameSite, domain: c.domain }));
    appendSetCookie(res, serializeCookie(c.refreshName, '', { ...base, path: c.refreshPath, sameSite: c.refreshSameSite, domain: c.domain }));
  }

  /**
   * Ends a cookie client's session in its browser: expires both cookies and, unless
   * `cookies.clearSiteData` is off, sends `Clear-Site-Data: "cookies"` so the browser also drops
   * copies this module cannot name (other paths, a planted `Domain` copy).
   */
  endCookieSession(res: unknown): void {
    this.clearCookies(res);
    if (this.options.cookies.clearSiteData) setHeader(res, 'Clear-Site-Data', '"cookies"');
  }

  /** Sets the `WWW-Authenticate` challenge of a refusal. */
  challenge(res: unknown, value: string): void {
    setHeader(res, 'WWW-Authenticate', value);
  }

  /** The headers of every answer of an authenticated route, refusals included: not cached, not sniffed. */
  protectAuthenticated(res: unknown): void {
    this.noStore(res);
    setHeader(res, 'X-Content-Type-Options', 'nosniff');
  }

  /** Login and refresh answers (and their refusals): not cached, not sniffed, and the page's URL never leaks as a Referer. */
  private tokenAnswerHeaders(res: unknown): void {
    this.protectAuthenticated(res);
    setHeader(res, 'Referrer-Policy', 'no-referrer');
  }

  /** `Cache-Control: no-store` for answers that carry tokens or session data. */
  noStore(res: unknown): void {
    setHeader(res, 'Cache-Control', 'no-store');
    setHeader(res, 'Pragma', 'no-cache');
  }

  /**
   * The access credential of a request: `Authorization: Bearer` if present, else the access
   * cookie. Never the URL. Throws 401 on a malformed bearer header or a tossed (duplicate) cookie.
   */
  credential(req: HttpRequestLike): RequestCredential {
    const auth = header(req, 'authorization');
    if (auth !== undefined && /^bearer(\s|$)/i.test(auth)) {
      const m = BEARER.exec(auth);
      if (!m) throw new SessionUnauthorizedError('malformed_authorization');
      return { token: m[1] as string, transport: 'bearer' };
    }
    const name = this.options.cookies.accessName;
    const cookie = readCookies(header(req, 'cookie'), [name])[name];
    if (cookie === AMBIGUOUS) throw new SessionUnauthorizedError('duplicate_cookie');
    return cookie ? { token: cookie, transport: 'cookie' } : null;
  }

  private async endPresentedSession(req: HttpRequestLike, ip: string): Promise<void> {
    let presented: { userId: string; sessionId: string } | null = null;
    try {
      const cred = this.credential(req);
      if (cred) {
        const p = await this.sessions.authenticate(cred.token, cred.transport, ip);
        presented = { userId: p.userId, sessionId: p.id };
      }
    } catch (err) {
      if (err instanceof SessionStoreUnavailableError) throw err;
    }
    if (!presented) {
      const copies = this.refreshCookieCopies(req);
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

  /** Whether CSRF tokens are required (the origin check always runs). */
  get csrfEnabled(): boolean {
    return this.options.csrf.enabled;
  }

  /** True for unsafe methods, which need CSRF protection when authenticated by cookie. */
  isUnsafe(req: HttpRequestLike): boolean {
    return !SAFE_METHODS.has(req.method.toUpperCase());
  }

  /**
   * Fetch-metadata and Origin check (OWASP CSRF cheat sheet). A request with neither header
   * (a non-browser client) passes here and still needs the CSRF token.
   */
  assertSameOrigin(req: HttpRequestLike, who: { userId?: string; sessionId?: string } = {}): void {
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

  private originAllowed(req: HttpRequestLike, origin: string): boolean {
    // Opaque origins (sandboxed frames, data: URLs) can be sent by any page, so they never pass.
    if (origin === 'null') return false;
    if (this.options.csrf.allowedOrigins.has(origin)) return true;
    const host = header(req, 'host');
    if (!host) return false;
    // Behind a TLS-terminating proxy without trust proxy the app sees http; accept both schemes for its own host.
    return origin === `https://${host}` || origin === `${isHttps(req) ? 'https' : 'http'}://${host}`;
  }

  /** Checks the CSRF header against the session (throws 403). */
  assertCsrfToken(req: HttpRequestLike, sessionId: string, userId?: string): void {
    if (!this.sessions.verifyCsrfToken(sessionId, header(req, this.options.csrf.headerName))) {
      this.events.emit('csrf_fail', { userId, sessionId, ip: clientIp(req), reason: 'token' });
      throw new ForbiddenException(`Missing or invalid ${this.options.csrf.headerName} header (CSRF protection)`);
    }
  }

  /**
   * Refuses (415) a body that is not `application/json`. An HTML form can post urlencoded,
   * multipart or text/plain bodies cross-site without a preflight, and old browsers send neither
   * `Origin` nor `Sec-Fetch-Site` with it (login CSRF). A request without a body passes.
   * `login()` and the refresh route call it; call it first in your login route to refuse before
   * checking credentials.
   */
  assertJsonBody(req: HttpRequestLike): void {
    const type = header(req, 'content-type');
    if (type === undefined ? !this.hasBody(req) : JSON_MEDIA_TYPE.test(type)) return;
    throw new UnsupportedMediaTypeException('The body must be application/json');
  }

  private hasBody(req: HttpRequestLike): boolean {
    const length = header(req, 'content-length');
    return header(req, 'transfer-encoding') !== undefined || (length !== undefined && length.trim() !== '0');
  }

  /** Refuses plain HTTP when `requireHttps` is on (honours the app's trust-proxy setting). */
  assertHttps(req: HttpRequestLike): void {
    if (this.options.requireHttps && !isHttps(req)) {
      throw new ForbiddenException('HTTPS is required');
    }
  }

  /**
   * Maps session errors to HTTP: 401 with `WWW-Authenticate` (RFC 6750), 503 with `Retry-After`
   * when the store is down. Anything else passes through unchanged.
   */
  toHttpError(err: unknown, res: unknown, bearer: boolean): Error {
    if (err instanceof HttpException) return err;
    if (err instanceof SessionUnauthorizedError) {
      // RFC 6750 §3: an error code only when a bearer token was presented (or the header was malformed).
      const challenge =
        err.reason === 'malformed_authorization' ? 'Bearer error="invalid_request"' : bearer ? 'Bearer error="invalid_token"' : 'Bearer';
      this.challenge(res, challenge);
      return new UnauthorizedException();
    }
    if (err instanceof SessionStoreUnavailableError) {
      setHeader(res, 'Retry-After', RETRY_AFTER_SECONDS);
      return new ServiceUnavailableException('Session store unavailable');
    }
    return err as Error;
  }
}
