import { type ArgumentsHost, Catch } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { SessionHttpService } from '../lib/index.js';

/**
 * Error answers under /auth/ are not cacheable either (DESIGN: all /auth/* answers carry
 * `Cache-Control: no-store`). This covers what runs before any module code: the body parser's
 * 400 for broken JSON and the login route's own 400/401. Registered as APP_FILTER.
 */
@Catch()
export class AuthNoStoreFilter extends BaseExceptionFilter {
  constructor(private readonly http: SessionHttpService) {
    super();
  }

  override catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<{ originalUrl?: string; url?: string }>();
    const path = (req.originalUrl ?? req.url ?? '').split('?')[0]!;
    if (path === '/auth' || path.startsWith('/auth/')) this.http.noStore(ctx.getResponse());
    super.catch(exception, host);
  }
}
