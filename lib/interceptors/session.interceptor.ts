import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { SessionHttpService } from '../http/session-http.service.js';
import type { SessionPrincipal } from '../interfaces/session-record.interface.js';
import { SESSION_REQUEST_KEY } from '../session.internal-constants.js';

/**
 * Response side of authenticated routes: no caching of personal answers, `nosniff`, and (when
 * `silentRenewal` is set) a fresh access cookie for cookie clients whose token nears expiry.
 * `SessionGuard` now does this itself (cheaper than an interceptor); this class stays for apps
 * that register it (`APP_INTERCEPTOR`) and does nothing a second time for the same response.
 * @publicApi
 */
@Injectable()
export class SessionInterceptor implements NestInterceptor {
  constructor(private readonly http: SessionHttpService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const principal = http.getRequest<Record<string, unknown>>()[SESSION_REQUEST_KEY] as SessionPrincipal | undefined;
    if (principal) this.http.decorateAuthenticatedResponse(http.getResponse<unknown>(), principal);
    return next.handle();
  }
}
