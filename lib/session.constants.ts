/** Metadata key written by `@Authenticated()`. @publicApi */
export const AUTHENTICATED_KEY = 'SESSION:AUTHENTICATED';
/** Metadata key written by `@Public()`. @publicApi */
export const PUBLIC_KEY = 'SESSION:PUBLIC';
/** Metadata key written by `@SkipCsrf()`. @publicApi */
export const SKIP_CSRF_KEY = 'SESSION:SKIP_CSRF';
/** Passport strategy name of the access-token strategy. @publicApi */
export const SESSION_JWT_STRATEGY = 'session-jwt';
