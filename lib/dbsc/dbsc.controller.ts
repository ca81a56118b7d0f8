import { Controller, HttpCode, Injectable, Post, Req, Res } from '@nestjs/common';
import { SkipSession } from '../decorators/skip.decorator.js';
import type { HttpRequestLike } from '../http/http-request.js';
import { SessionDbscService, type DbscSessionInstructions } from './dbsc.service.js';

/**
 * The DBSC registration and refresh endpoints, mounted under the route prefix beside the session
 * controller. They answer 404 unless `dbsc.enabled`. Open routes: the browser calls them itself,
 * authenticated by the access cookie (registration) or the device key's proof (refresh); a signed
 * challenge, not a CSRF token, is what a cross-site page cannot produce.
 */
@Injectable()
export class DbscController {
  constructor(private readonly dbsc: SessionDbscService) {}

  @Post('register')
  @HttpCode(200)
  @SkipSession()
  register(@Req() req: HttpRequestLike, @Res({ passthrough: true }) res: unknown): Promise<DbscSessionInstructions> {
    return this.dbsc.register(req, res);
  }

  @Post('refresh')
  @HttpCode(200)
  @SkipSession()
  refresh(@Req() req: HttpRequestLike, @Res({ passthrough: true }) res: unknown): Promise<DbscSessionInstructions> {
    return this.dbsc.refresh(req, res);
  }
}

/** The DBSC controller at `<prefix>/dbsc`; a subclass per module so prefixes never collide. */
export function createDbscController(prefix: string): typeof DbscController {
  class MountedDbscController extends DbscController {}
  Controller(prefix ? `${prefix.replace(/\/+$/, '')}/dbsc` : 'dbsc')(MountedDbscController);
  return MountedDbscController;
}
