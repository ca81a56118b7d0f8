import { type CanActivate, type ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { AuthenticatedOptions } from '../decorators/authenticated.decorator.js';
import { resolveRoutePolicy, type RoutePolicy } from '../decorators/route-policy.js';
import { SessionEvents } from '../events/session-events.service.js';
import { clientIp, type HttpRequestLike } from '../http/http-adapter.js';
import { SessionHttpService } from '../http/session-http.service.js';
import type { SessionPrincipal } from '../interfaces/session-record.interface.js';
import { SessionUnauthorizedError } from '../session.errors.js';
import { SessionService } from '../session.service.js';
import { assertCsrf, assertRoles, attachPrincipal, needsCsrf, verifiedPrincipal } from './session-checks.js';

/**
 * Authenticates a request against its server-side session, then checks roles and CSRF.
 * Applied by `@Authenticated()`, or globally as `APP_GUARD` (then `@SkipSession()` opens routes).
 * Which decorator wins: `resolveRoutePolicy` (the handler's, else the class's).
 * Subclass and override the protected hooks to change a step.
 * @publicApi
 */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(
    protected readonly reflector: Reflector,
    protected readonly sessions: SessionService,
    protected readonly http: SessionHttpService,
    protected readonly events: SessionEvents,
  ) {}

  /** Route policies by handler, then class: decorators are fixed once the app is built. */
  private readonly routes = new WeakMap<object, WeakMap<object, RoutePolicy>>();

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const route = this.routePolicy(context);
    if (!route.authenticate) return true;
    const req = this.getRequest(context);
    const res = context.switchToHttp().getResponse<unknown>();
    // Refusals (401/403/503) of authenticated routes are as personal as their answers: never cached.
    this.http.protectAuthenticated(res);
    this.http.assertHttps(req);

    // The guard may run twice on one request (global and @Authenticated(), or class and handler),
    // after SessionJwtStrategy too: the session is checked once, the route's rules every time.
    let principal = verifiedPrincipal(req);
    const fresh = principal === undefined;
    let bearer = principal?.transport === 'bearer';
    if (!principal) {
      try {
        const credential = this.http.credential(req);
        if (!credential) throw new SessionUnauthorizedError('no_credentials');
        bearer = credential.transport === 'bearer';
        // The client address is only needed for the audit event of a refusal: resolve it then (Express's req.ip parses X-Forwarded-For).
        principal = await this.sessions.authenticate(credential.token, credential.transport, () => clientIp(req));
      } catch (err) {
        throw this.http.toHttpError(err, res, bearer);
      }
    }

    try {
      this.checkRoles(principal, { roles: [...route.roles] }, req);
    } catch (err) {
      // RFC 6750 §3.1: a bearer token without the needed rights.
      if (bearer && err instanceof ForbiddenException) this.http.challenge(res, 'Bearer error="insufficient_scope"');
      throw err;
    }
    if (needsCsrf(this.http, req, principal) && !route.skipCsrf) this.checkCsrf(req, principal);
    if (!fresh) return true;
    attachPrincipal(req, principal);
    // The response side here rather than in an interceptor: Nest's interceptor pipeline (rxjs)
    // cost about a tenth of a GET /me in the bench, and a guard reaches the same response.
    this.http.decorateAuthenticatedResponse(res, principal);
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

  protected getRequest(context: ExecutionContext): HttpRequestLike {
    return context.switchToHttp().getRequest<HttpRequestLike>();
  }

  /** Roles come from the session record, never from token claims. */
  protected checkRoles(principal: SessionPrincipal, options: AuthenticatedOptions, req: HttpRequestLike): void {
    assertRoles(this.events, principal, options.roles, req);
  }

  protected checkCsrf(req: HttpRequestLike, principal: SessionPrincipal): void {
    assertCsrf(this.http, req, principal);
  }
}
