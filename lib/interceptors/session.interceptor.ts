import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { Observable } from 'rxjs';

/**
 * Kept so apps that registered it (`APP_INTERCEPTOR`) keep working: `SessionGuard` now sets the
 * response headers and renews the access cookie itself, so this passes requests through.
 * @deprecated not needed; remove it from your providers.
 * @publicApi
 */
@Injectable()
export class SessionInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle();
  }
}
