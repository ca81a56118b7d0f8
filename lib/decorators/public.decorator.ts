import { SetMetadata } from '@nestjs/common';
import { PUBLIC_KEY, SKIP_CSRF_KEY } from '../session.constants.js';

/** Opens a route when `SessionGuard` is installed globally (`APP_GUARD`). @publicApi */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

/** Turns off the CSRF check for one route or controller. Use sparingly. @publicApi */
export const SkipCsrf = () => SetMetadata(SKIP_CSRF_KEY, true);
