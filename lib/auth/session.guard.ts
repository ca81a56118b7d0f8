import {
  type CanActivate,
  type ExecutionContext,
  ForbiddenException,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { SessionCsrfPolicy } from '../csrf/csrf-policy.js';
import type { AuthenticatedOptions } from '../decorators/authenticated.decorator.js';
import { resolveRoutePolicy, type RoutePolicy } from '../decorators/route-policy.js';
import { SessionEvents } from '../events/session-events.service.js';
import { INSUFFICIENT_SCOPE_CHALLENGE } from '../http/http-errors.js';
import { clientIp, type HttpRequestLike, type HttpResponseLike } from '../http/http-request.js';
import { type RequestCredential, SessionTransport } from '../http/session-transport.js';
import type { SessionPrincipal } from '../interfaces/session-record.interface.js';
import { isUnsafeOperation, realtimeRequestResponse, toContextError } from '../realtime/context-kinds.js';
import { SessionUnauthorizedError } from '../session.errors.js';
import { SessionService } from '../session.service.js';
import { assertRoles, attachPrincipal, renewAccessCookieIfDue, verifiedPrincipal } from './session-checks.js';

/**
 * The request a guard checks and the response its headers go to. `res` is absent where there is
 * none to write to (a WebSocket handshake): then no headers or cookies are written.
 * @publicApi
 */
export interface SessionRequestResponse {
  req: HttpRequestLike;
  res?: HttpResponseLike | undefined;
}

/** What `handleUnauthenticated` is told about the refused request. @publicApi */
export interface SessionGuardFailure extends SessionRequestResponse {
  context: ExecutionContext;
  /** The credential came in an `Authorization: Bearer` header (RFC 6750 challenges apply). */
  bearer: boolean;
}

/**
 * Authenticates a request against its server-side session, then checks roles and CSRF.
 * Applied by `@Authenticated()`, or globally as `APP_GUARD` (then `@SkipSession()` opens routes).
 * Which decorator wins: `resolveRoutePolicy` (the handler's, else the class's).
 *
 * Subclass and override a protected hook to change one step, as with `ThrottlerGuard`:
 * `getRequestResponse` (where the request and response come from: GraphQL, WebSocket),
 * `getRequest`, `extractCredential`, `handleUnauthenticated` (how a 401/503 is answered),
 * `checkRoles`, `checkCsrf`, `applySilentRenewal`.
 * @publicApi
 */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(
    protected readonly reflector: Reflector,
    protected readonly sessions: SessionService,
    protected readonly transport: SessionTransport,
    protected readonly csrf: SessionCsrfPolicy,
    protected readonly events: SessionEvents,
  ) {}

  /** Route policies by handler, then class: decorators are fixed once the app is built. */
  private readonly routes = new WeakMap<object, WeakMap<object, RoutePolicy>>();

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() === 'http') return this.check(context);
    // GraphQL and WebSocket refusals in their own terms (extensions.code, WsException).
    try {
      return await this.check(context);
    } catch (err) {
      throw await toContextError(context, err);
    }
  }

  private async check(context: ExecutionContext): Promise<boolean> {
    const route = this.routePolicy(context);
    if (!route.authenticate) return true;
    const { req, res } = this.getRequestResponse(context);
    // Refusals (401/403/503) of authenticated routes are as personal as their answers: never cached.
    if (res) this.transport.protectAuthenticated(res);
    this.transport.assertHttps(req);

    // The guard may run twice on one request (global and @Authenticated(), or class and handler),
    // after SessionJwtStrategy too: the session is checked once, the route's rules every time.
    let principal = verifiedPrincipal(req);
    const fresh = principal === undefined;
    let bearer = principal?.transport === 'bearer';
    if (!principal) {
      try {
        const credential = this.extractCredential(req, context);
        if (!credential) throw new SessionUnauthorizedError('no_credentials');
        bearer = credential.transport === 'bearer';
        // The client address is only needed for the audit event of a refusal: resolve it then (Express's req.ip parses X-Forwarded-For).
        principal = await this.sessions.authenticate(credential.token, credential.transport, () => clientIp(req));
      } catch (err) {
        this.handleUnauthenticated(err, { context, req, res, bearer });
      }
    }

    try {
      this.checkRoles(principal, { roles: [...route.roles] }, req);
    } catch (err) {
      // RFC 6750 §3.1: a bearer token without the needed rights.
      if (bearer && res && err instanceof ForbiddenException)
        this.transport.setHeader(res, 'WWW-Authenticate', INSUFFICIENT_SCOPE_CHALLENGE);
      throw err;
    }
    if (!route.skipCsrf && this.csrf.applies(req, principal) && isUnsafeOperation(context))
      this.checkCsrf(req, principal);
    if (route.fresh) {
      try {
        this.sessions.assertFresh(principal, route.fresh, () => clientIp(req));
      } catch (err) {
        throw this.transport.refuse(res, err, bearer);
      }
    }
    if (!fresh) return true;
    attachPrincipal(req, principal);
    // The response side here rather than in an interceptor: Nest's interceptor pipeline (rxjs)
    // cost about a tenth of a GET /me in the bench, and a guard reaches the same response.
    if (res) this.applySilentRenewal(res, principal);
    return true;
  }

  /** Reads the decorators of a route once (Reflector lookups were a visible share of a request). */
  private routePolicy(context: ExecutionContext): RoutePolicy {
    const handler = context.getHandler();
    const cls = context.getClass();
    let byClass = this.routes.get(handler);
    let route = byClass?.get(cls);
    if (route) return route;
    route = resolveRoutePolicy(this.reflector, handler, cls);
    if (!byClass) this.routes.set(handler, (byClass = new WeakMap()));
    byClass.set(cls, route);
    return route;
  }

  /**
   * The request to authenticate and the response for headers and cookies. HTTP by default (the
   * request from `getRequest`); GraphQL (the resolver context's `req`/`res`, or Fastify's
   * `request`/`reply`) and WebSocket contexts (the handshake `SessionSockets` accepted, no
   * response) are built in; override for other shapes.
   */
  protected getRequestResponse(context: ExecutionContext): SessionRequestResponse {
    const realtime = realtimeRequestResponse(context);
    if (realtime) {
      // A socket SessionSockets did not accept, or a GraphQL context without `req`.
      if (!realtime.req) throw new UnauthorizedException();
      return { req: realtime.req, res: realtime.res };
    }
    return { req: this.getRequest(context), res: context.switchToHttp().getResponse<HttpResponseLike>() };
  }

  /** The HTTP request of the context; used by the default `getRequestResponse`. */
  protected getRequest(context: ExecutionContext): HttpRequestLike {
    return context.switchToHttp().getRequest<HttpRequestLike>();
  }

  /**
   * The access token the request carries and how: `Authorization: Bearer`, else the access cookie;
   * `null` when there is none. Throw `SessionUnauthorizedError` for a malformed credential.
   */
  protected extractCredential(req: HttpRequestLike, _context: ExecutionContext): RequestCredential {
    return this.transport.credential(req);
  }

  /**
   * Answers a request that could not be authenticated. `error` is a `SessionUnauthorizedError`
   * (no, invalid, expired or revoked credential: 401 with `WWW-Authenticate`) or a
   * `SessionStoreUnavailableError` (503 with `Retry-After`); anything else passes through.
   * Must throw; override to answer in another protocol (a GraphQL `UNAUTHENTICATED` error).
   */
  protected handleUnauthenticated(error: unknown, failure: SessionGuardFailure): never {
    throw this.transport.refuse(failure.res, error, failure.bearer);
  }

  /** Roles come from the session record, never from token claims. */
  protected checkRoles(principal: SessionPrincipal, options: AuthenticatedOptions, req: HttpRequestLike): void {
    assertRoles(this.events, principal, options.roles, req);
  }

  /** For cookie-carried unsafe requests (unless `@SkipCsrf()`): origin check and CSRF token (403). */
  protected checkCsrf(req: HttpRequestLike, principal: SessionPrincipal): void {
    this.csrf.assert(req, principal);
  }

  /** Renews a nearly expired access cookie (`silentRenewal`); once per request, after every check passed. */
  protected applySilentRenewal(res: HttpResponseLike, principal: SessionPrincipal): void {
    renewAccessCookieIfDue(this.transport, this.sessions, res, principal);
  }
}
