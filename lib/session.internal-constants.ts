/** Internal injection tokens; not exported from the package entry. */
export const SESSION_RESOLVED_OPTIONS = Symbol('SESSION:RESOLVED_OPTIONS');
export const SESSION_ROUTE_PREFIX = Symbol('SESSION:ROUTE_PREFIX');
/** The module's mounted controller class, or null with `routes: false` (see http/session-routes.ts). */
export const SESSION_CONTROLLER = Symbol('SESSION:CONTROLLER');
/** The `SessionClock` (see session-clock.ts); tests override it, nothing else provides it. */
export const SESSION_CLOCK = Symbol('SESSION:CLOCK');
/** Request property where the guard leaves the principal. */
export const SESSION_REQUEST_KEY = 'sessionPrincipal';
