import type { Reflector } from '@nestjs/core';
import { AUTHENTICATED_KEY, SKIP_CSRF_KEY, SKIP_SESSION_KEY } from '../session.constants.js';
import type { AuthenticatedOptions } from './authenticated.decorator.js';

/** What the route decorators ask of one route, read once per route. */
export interface RoutePolicy {
  /** False when the route is open to `SessionGuard` (`@SkipSession()` decided). */
  authenticate: boolean;
  /** The session must hold one of these (empty: any session). */
  roles: readonly string[];
  /** No CSRF token or origin check for cookie-carried unsafe requests. */
  skipCsrf: boolean;
  /** Step-up: `@Authenticated({ fresh })` of the deciding level. */
  fresh?: boolean | number;
}

/**
 * The precedence of the README's table: the handler's own `@Authenticated()` / `@SkipSession()`
 * decides, else the class's, else the guard authenticates (it is there, globally or by
 * `@UseGuards`). On one level `@Authenticated()` wins over `@SkipSession()`: a contradiction
 * fails closed. `@SkipCsrf()` on either level skips the CSRF check and opens nothing.
 */
export function resolveRoutePolicy(reflector: Reflector, handler: object, cls: object): RoutePolicy {
  // Reflector wants a Function; handlers and classes are, the callers just know them as objects.
  const read = <T>(key: string, target: object) => reflector.get<T | undefined>(key, target as () => unknown);
  const level = (target: object) => ({
    auth: read<AuthenticatedOptions>(AUTHENTICATED_KEY, target),
    skip: read<boolean>(SKIP_SESSION_KEY, target) === true,
  });
  const h = level(handler);
  const c = level(cls);
  // The nearest level that says anything decides, as a whole (its roles too).
  const decider = h.auth || h.skip ? h : c;
  const authenticate = decider.auth !== undefined || !decider.skip;
  return {
    authenticate,
    roles: authenticate ? [...(decider.auth?.roles ?? [])] : [],
    skipCsrf: read<boolean>(SKIP_CSRF_KEY, handler) === true || read<boolean>(SKIP_CSRF_KEY, cls) === true,
    fresh: authenticate ? decider.auth?.fresh : undefined,
  };
}
