import { SetMetadata } from '@nestjs/common';
import { SKIP_CSRF_KEY, SKIP_SESSION_KEY } from '../session.constants.js';

/**
 * Opens a route or controller to `SessionGuard` (installed globally as `APP_GUARD`, or by a
 * class-level `@Authenticated()`). A handler's own `@Authenticated()` still wins over a class's
 * `@SkipSession()`; see "Decorator precedence" in the README.
 * Named so that it cannot be confused with an app's own `@Public()`.
 * @publicApi
 */
export const SkipSession = (): ClassDecorator & MethodDecorator => SetMetadata(SKIP_SESSION_KEY, true);

/** The first name of `@SkipSession()`, kept for compatibility (same metadata). @publicApi */
export const Public = SkipSession;

/** Turns off the CSRF check (token and origin) for one route or controller. Use sparingly. @publicApi */
export const SkipCsrf = (): ClassDecorator & MethodDecorator => SetMetadata(SKIP_CSRF_KEY, true);
