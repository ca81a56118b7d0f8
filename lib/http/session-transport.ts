import { ForbiddenException, Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { type AbstractHttpAdapter, HttpAdapterHost } from '@nestjs/core';
import type { SessionPrincipal } from '../interfaces/session-record.interface.js';
import type { ResolvedSessionOptions } from '../session-options.js';
import { SESSION_RESOLVED_OPTIONS } from '../session.internal-constants.js';
import { SessionConfigError, SessionUnauthorizedError } from '../session.errors.js';
import { AMBIGUOUS, readCookieCopies, readCookies } from './cookies.js';
import { toHttpRefusal } from './http-errors.js';
import { ROUTE_HEADERS } from './route-headers.js';
import { SessionRoutes } from './session-routes.js';
import { header, type HttpRequestLike, type HttpResponseLike, isHttps } from './http-request.js';

/**
 * The credential a request carries.
 * @publicApi
 */
export type RequestCredential = { token: string; transport: 'cookie' | 'bearer' } | null;

/** Headers of every answer of an authenticated route, refusals included: those of the module's routes. */
const AUTHENTICATED_HEADERS = ROUTE_HEADERS;
/** Answers that carry tokens (login, refresh): also, the page's URL never leaks as a Referer. */
const TOKEN_ANSWER_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ...AUTHENTICATED_HEADERS,
  ['Referrer-Policy', 'no-referrer'],
];

/**
 * Refresh-cookie copies tried at most. A sibling subdomain can plant about four copies per parent
 * domain (Path=/, /auth, /auth/, /auth/refresh); more than this is refused.
 */
const MAX_REFRESH_COOKIE_COPIES = 8;
const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;
// The rules Nest's `setCookie` enforces, checked once at startup instead of failing a login with 500.
const COOKIE_DOMAIN = /^\.?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const SAME_SITE = { Strict: 'strict', Lax: 'lax', None: 'none' } as const;

/**
 * The transport of sessions: reads the credential a request carries (bearer header or access
 * cookie, never the URL; refresh-cookie copies) and writes cookies and headers. Writes go through
 * the app's Nest HTTP adapter (`setHeader`, `setCookie`), so Express and Fastify behave alike.
 * @publicApi
 */
@Injectable()
export class SessionTransport implements OnModuleInit {
  private readonly logger = new Logger('SessionModule');

  constructor(
    @Inject(SESSION_RESOLVED_OPTIONS) private readonly options: ResolvedSessionOptions,
    private readonly adapterHost: HttpAdapterHost,
    private readonly routes: SessionRoutes,
  ) {
    const { domain } = options.cookies;
    if (domain && !COOKIE_DOMAIN.test(domain)) {
      throw new SessionConfigError(`cookies.domain "${domain}" is not a host name (like example.com)`);
    }
  }

  onModuleInit(): void {
    if (!this.options.cookies.secure) {
      this.logger.warn(
        'cookies.secure is false: session cookies are sent over plain HTTP without name prefixes. Use this only for local development.',
      );
    }
  }

  /** Read per call: Nest sets the adapter after the module's providers are built. */
  private get adapter(): AbstractHttpAdapter {
    const adapter = this.adapterHost.httpAdapter as AbstractHttpAdapter | undefined;
    if (!adapter) {
      throw new Error(
        "SessionTransport writes through Nest's HTTP adapter, and this application has none. Outside HTTP, override SessionGuard.getRequestResponse to return no response.",
      );
    }
    return adapter;
  }

  /**
   * The access credential of a request: `Authorization: Bearer` if present, else the access
   * cookie. Never the URL. Throws `SessionUnauthorizedError` on a malformed bearer header or a
   * tossed (duplicate) cookie.
   */
  credential(req: HttpRequestLike): RequestCredential {
    const auth = header(req, 'authorization');
    if (auth !== undefined && /^bearer(\s|$)/i.test(auth)) {
      const m = BEARER.exec(auth);
      if (!m) throw new SessionUnauthorizedError('malformed_authorization');
      return { token: m[1], transport: 'bearer' };
    }
    const name = this.options.cookies.accessName;
    const cookie = readCookies(header(req, 'cookie'), [name])[name];
    if (cookie === AMBIGUOUS) throw new SessionUnauthorizedError('duplicate_cookie');
    return cookie ? { token: cookie, transport: 'cookie' } : null;
  }

  /** The refresh cookie's copies; a sibling subdomain can plant more (`__Secure-` allows `Domain`). */
  refreshCookieCopies(req: HttpRequestLike): string[] | typeof AMBIGUOUS {
    return readCookieCopies(header(req, 'cookie'), this.options.cookies.refreshName, MAX_REFRESH_COOKIE_COPIES);
  }

  /** The client asked for tokens in the body (`X-Auth-Transport: header`) instead of cookies. */
  wantsHeaderTransport(req: HttpRequestLike): boolean {
    return header(req, 'x-auth-transport')?.toLowerCase() === 'header';
  }

  /** Refuses plain HTTP (403) when `requireHttps` is on (honours the app's trust-proxy setting). */
  assertHttps(req: HttpRequestLike): void {
    if (this.options.requireHttps && !isHttps(req)) throw new ForbiddenException('HTTPS is required');
  }

  /** Sets (replaces) one response header. */
  setHeader(res: HttpResponseLike, name: string, value: string): void {
    this.adapter.setHeader(res, name, value);
  }

  /** `Cache-Control: no-store`, `Pragma: no-cache`, `X-Content-Type-Options: nosniff`. */
  protectAuthenticated(res: HttpResponseLike): void {
    for (const [name, value] of AUTHENTICATED_HEADERS) this.adapter.setHeader(res, name, value);
  }

  /** The headers of `protectAuthenticated` and `Referrer-Policy: no-referrer`, for answers that carry tokens. */
  protectTokenAnswer(res: HttpResponseLike): void {
    for (const [name, value] of TOKEN_ANSWER_HEADERS) this.adapter.setHeader(res, name, value);
  }

  /**
   * Sets the headers a session error needs (`WWW-Authenticate`, `Retry-After`) and returns the
   * HTTP exception to throw. `bearer`: the credential came in an `Authorization` header.
   */
  refuse(res: HttpResponseLike | undefined, err: unknown, bearer: boolean): Error {
    const refusal = toHttpRefusal(err, bearer);
    if (res) for (const [name, value] of refusal.headers) this.adapter.setHeader(res, name, value);
    return refusal.exception;
  }

  /** Sets the access cookie; its Max-Age never outlives the token. `expiresAt` in ms. */
  setAccessCookie(res: HttpResponseLike, token: string, expiresAt: number): void {
    const c = this.options.cookies;
    this.setCookie(res, c.accessName, token, expiresAt, '/', c.accessSameSite);
  }

  /** Sets the refresh cookie, scoped to the refresh route where the app really serves it. `expiresAt` in ms. */
  setRefreshCookie(res: HttpResponseLike, token: string, expiresAt: number): void {
    const c = this.options.cookies;
    this.setCookie(res, c.refreshName, token, expiresAt, this.routes.paths.refreshPath, c.refreshSameSite);
  }

  /** Expires both cookies with the attributes they were set with. */
  clearCookies(res: HttpResponseLike): void {
    const c = this.options.cookies;
    this.setCookie(res, c.accessName, '', 0, '/', c.accessSameSite);
    this.setCookie(res, c.refreshName, '', 0, this.routes.paths.refreshPath, c.refreshSameSite);
  }

  /**
   * Ends a cookie client's session in its browser: expires both cookies and, unless
   * `cookies.clearSiteData` is off, sends `Clear-Site-Data: "cookies"` so the browser also drops
   * copies this module cannot name (other paths, a planted `Domain` copy).
   */
  endCookieSession(res: HttpResponseLike): void {
    this.clearCookies(res);
    if (this.options.cookies.clearSiteData) this.adapter.setHeader(res, 'Clear-Site-Data', '"cookies"');
  }

  /** Whether a cookie-carried access token is close enough to expiry for silent renewal. */
  renewalDue(principal: SessionPrincipal): boolean {
    const renewal = this.options.silentRenewal;
    return (
      renewal > 0 &&
      principal.transport === 'cookie' &&
      // A device-bound (DBSC) session's cookie is renewed only against a proof from its device key.
      !principal.deviceBound &&
      principal.tokenExpiresAt * 1000 - this.options.clock() < renewal * 1000
    );
  }

  private setCookie(
    res: HttpResponseLike,
    name: string,
    value: string,
    expiresAt: number,
    path: string,
    sameSite: keyof typeof SAME_SITE,
  ): void {
    const c = this.options.cookies;
    // Same attributes when set and when cleared (Max-Age=0), so a browser matches them; no Expires.
    // An empty domain meant no Domain attribute before; Nest's writer would refuse it.
    const maxAge = expiresAt === 0 ? 0 : Math.max(0, Math.floor((expiresAt - this.options.clock()) / 1000));
    this.adapter.setCookie(res, name, value, {
      maxAge,
      path,
      sameSite: SAME_SITE[sameSite],
      secure: c.secure,
      httpOnly: true,
      domain: c.domain || undefined,
    });
  }
}
