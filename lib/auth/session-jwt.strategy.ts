import { ForbiddenException, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-jwt';
import { resolveRoutePolicy, type RoutePolicy } from '../decorators/route-policy.js';
import { SessionEvents } from '../events/session-events.service.js';
import { SessionCsrfPolicy } from '../csrf/csrf-policy.js';
import { INSUFFICIENT_SCOPE_CHALLENGE } from '../http/http-errors.js';
import { clientIp, type HttpRequestLike, type HttpResponseLike, requestSlots } from '../http/http-request.js';
import { SessionTransport } from '../http/session-transport.js';
import { SESSION_JWT_STRATEGY } from '../session.constants.js';
import { SessionUnauthorizedError } from '../session.errors.js';
import { SessionService } from '../session.service.js';
import { AccessTokenService } from '../tokens/access-token.service.js';
import { routeContextOf } from './route-context.guard.js';
import { assertRoles, attachPrincipal, renewAccessCookieIfDue, verifiedPrincipal } from './session-checks.js';

/** What `AuthGuard('session-jwt')` puts in `req.user`: the user, as `@CurrentUser()` gives it. */
export interface SessionJwtUser {
  id: string;
  roles: string[];
}

/** No route noted (RouteContextGuard did not run): the strictest reading. */
const STRICT: RoutePolicy = { authenticate: true, roles: [], skipCsrf: false };
/** Where `jwtFromRequest` notes the transport that carried the token, for `validate`. */
const TRANSPORT = Symbol('nestjs-jwt-session:transport');

/**
 * The guard's checks as a Passport strategy named `session-jwt`, for apps that compose Passport
 * strategies: `@UseGuards(AuthGuard('session-jwt'))`. passport-jwt checks the signature with the
 * pinned algorithm; `validate` checks the session, roles from the route's `@Authenticated()`
 * metadata, CSRF (origin and token) for cookie-carried unsafe requests unless `@SkipCsrf()`, and
 * sets the same headers and `@CurrentUser()` / `@CurrentSession()` data as `SessionGuard`.
 * `req.user` is `{ id, roles }` of the user. The route comes from `RouteContextGuard`.
 * @publicApi
 */
@Injectable()
export class SessionJwtStrategy extends PassportStrategy(Strategy, SESSION_JWT_STRATEGY) {
  private readonly routes = new WeakMap<object, WeakMap<object, RoutePolicy>>();

  constructor(
    private readonly sessions: SessionService,
    private readonly transport: SessionTransport,
    private readonly csrf: SessionCsrfPolicy,
    accessTokens: AccessTokenService,
    private readonly reflector: Reflector,
    private readonly events: SessionEvents,
  ) {
    super({
      passReqToCallback: true,
      // Runs first on every request through the strategy, refusals included: the guard's headers
      // and HTTPS check belong here. Remembers which transport carried the token; rejects tokens
      // whose header we never issue.
      jwtFromRequest: (req: HttpRequestLike) => {
        const res = responseOf(req);
        if (res) transport.protectAuthenticated(res);
        // Thrown synchronously inside passport.authenticate, so AuthGuard rejects with this 403.
        transport.assertHttps(req);
        try {
          const credential = transport.credential(req);
          if (!credential || !accessTokens.keyFor(credential.token)) return null;
          requestSlots(req)[TRANSPORT] = credential.transport;
          return credential.token;
        } catch {
          return null;
        }
      },
      secretOrKeyProvider: (_req: unknown, token: string, done: (err: unknown, key?: unknown) => void) =>
        done(null, accessTokens.keyFor(token)),
      algorithms: [accessTokens.algorithm],
      issuer: accessTokens.issuer,
      audience: accessTokens.audience,
    } as never);
  }

  async validate(req: HttpRequestLike, payload: unknown): Promise<SessionJwtUser> {
    const res = responseOf(req);
    const bearer = requestSlots(req)[TRANSPORT] === 'bearer';
    // SessionGuard may have checked this session already on this request (one round trip).
    let principal = verifiedPrincipal(req);
    const fresh = principal === undefined;
    if (!principal) {
      try {
        principal = await this.sessions.authenticateVerified(payload, bearer ? 'bearer' : 'cookie', () =>
          clientIp(req),
        );
      } catch (err) {
        if (err instanceof SessionUnauthorizedError) return false as never;
        throw this.transport.refuse(res, err, bearer);
      }
    }
    const route = this.routePolicy(req);
    try {
      assertRoles(this.events, principal, route.roles, req);
    } catch (err) {
      if (bearer && res && err instanceof ForbiddenException)
        this.transport.setHeader(res, 'WWW-Authenticate', INSUFFICIENT_SCOPE_CHALLENGE);
      throw err;
    }
    if (!route.skipCsrf && this.csrf.applies(req, principal)) this.csrf.assert(req, principal);
    if (route.fresh) {
      try {
        this.sessions.assertFresh(principal, route.fresh, () => clientIp(req));
      } catch (err) {
        throw this.transport.refuse(res, err, bearer);
      }
    }
    if (fresh) {
      attachPrincipal(req, principal);
      if (res) renewAccessCookieIfDue(this.transport, this.sessions, res, principal);
    }
    return { id: principal.userId, roles: principal.roles };
  }

  /** The policy of the route RouteContextGuard noted, read once per route. */
  private routePolicy(req: HttpRequestLike): RoutePolicy {
    const route = routeContextOf(req);
    if (!route) return STRICT;
    let byClass = this.routes.get(route.handler);
    let policy = byClass?.get(route.cls);
    if (policy) return policy;
    policy = resolveRoutePolicy(this.reflector, route.handler, route.cls);
    if (!byClass) this.routes.set(route.handler, (byClass = new WeakMap()));
    byClass.set(route.cls, policy);
    return policy;
  }
}

/** The response of a request: from RouteContextGuard, else Express's `req.res`; none reachable → no headers. */
function responseOf(req: HttpRequestLike): HttpResponseLike | undefined {
  return (routeContextOf(req)?.res ?? requestSlots(req).res) as HttpResponseLike | undefined;
}
