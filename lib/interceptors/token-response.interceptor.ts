import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { Observable } from 'rxjs';
import type { HttpResponseLike } from '../http/http-request.js';
import { SessionTransport } from '../http/session-transport.js';

/**
 * The response side of routes that hand out tokens or session data: before the handler runs it
 * sets `Cache-Control: no-store`, `Pragma: no-cache`, `X-Content-Type-Options: nosniff` and
 * `Referrer-Policy: no-referrer`, so every answer of the route carries them, including the
 * refusals your own code throws before `SessionHttpService.login()` (wrong password, a pipe's
 * 400). The module's controller uses it; put it on your login route with
 * `@UseInterceptors(TokenResponseInterceptor)`. Not needed on `@Authenticated()` routes (the guard
 * sets the first three), and not meant to be global: only the routes that opt in pay for it.
 * @publicApi
 */
@Injectable()
export class TokenResponseInterceptor implements NestInterceptor {
  constructor(private readonly transport: SessionTransport) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'http')
      this.transport.protectTokenAnswer(context.switchToHttp().getResponse<HttpResponseLike>());
    // No rxjs operator: the headers are set before the handler, so nothing runs after it.
    return next.handle();
  }
}
