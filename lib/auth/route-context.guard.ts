import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';

/** Where `RouteContextGuard` leaves the route on the request (a symbol: no header or body can set it). */
export const ROUTE_CONTEXT = Symbol('nestjs-jwt-session:route');

/** The route a request reached, and its response. */
export interface RouteContext {
  handler: object;
  cls: object;
  res: unknown;
}

/**
 * Notes the route on each HTTP request, for `SessionJwtStrategy`: Passport hands a strategy
 * only the request, so without this it could not read `@Authenticated({ roles })` or
 * `@SkipCsrf()`, nor reach a Fastify reply. The module installs it as a global guard; global
 * guards run before route guards such as `AuthGuard('session-jwt')`. It never refuses.
 */
@Injectable()
export class RouteContextGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    // It runs on every route of the app: read the arguments directly, without switchToHttp()'s wrapper object.
    if (context.getType() !== 'http') return true;
    const route: RouteContext = {
      handler: context.getHandler(),
      cls: context.getClass(),
      res: context.getArgByIndex(1),
    };
    context.getArgByIndex<Record<symbol, unknown>>(0)[ROUTE_CONTEXT] = route;
    return true;
  }
}

/** The route `RouteContextGuard` noted on `req`, if it ran. */
export function routeContextOf(req: object): RouteContext | undefined {
  return (req as Record<symbol, RouteContext | undefined>)[ROUTE_CONTEXT];
}
