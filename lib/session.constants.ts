/** Metadata key written by `@Authenticated()`. @publicApi */
export const AUTHENTICATED_KEY = 'nestjs-jwt-session:authenticated';
/** Metadata key written by `@SkipSession()` (and its alias `@Public()`). @publicApi */
export const SKIP_SESSION_KEY = 'nestjs-jwt-session:skip';
/** Metadata key written by `@SkipCsrf()`. @publicApi */
export const SKIP_CSRF_KEY = 'nestjs-jwt-session:skip-csrf';
/** Passport strategy name of the access-token strategy. @publicApi */
export const SESSION_JWT_STRATEGY = 'session-jwt';
