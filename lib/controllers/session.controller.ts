import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Injectable,
  NotFoundException,
  Param,
  Post,
  Req,
  Res,
  UseInterceptors,
} from '@nestjs/common';
import { Authenticated } from '../decorators/authenticated.decorator.js';
import { CurrentSession } from '../decorators/current-session.decorator.js';
import { SkipSession } from '../decorators/skip.decorator.js';
import { clientIp, type HttpRequestLike, type HttpResponseLike } from '../http/http-request.js';
import { SessionHttpService } from '../http/session-http.service.js';
import { SessionTransport } from '../http/session-transport.js';
import { TokenResponseInterceptor } from '../interceptors/token-response.interceptor.js';
import { deviceLabel } from '../device/device-label.js';
import type { SessionPrincipal } from '../interfaces/session-record.interface.js';
import { SESSION_ID_PATTERN } from '../tokens/jwt-format.js';
import { SessionService } from '../session.service.js';

/** One row of `GET <prefix>/sessions`. */
export interface SessionListEntry {
  id: string;
  createdAt: string;
  lastSeenAt: string;
  userAgent: string;
  ip: string;
  /** Readable device label, e.g. `Chrome 131 on macOS` (≤ 64 bytes). */
  device: string;
  current: boolean;
  /** Only on an impersonation session: the admin who started it. */
  impersonator?: { id: string };
}

/**
 * Refresh, logout, logout-all, session listing and revocation, CSRF token. Mounted under the
 * route prefix (default `auth`) unless the module is given `routes: false`.
 * Every answer carries `Cache-Control: no-store` and `X-Content-Type-Options: nosniff`
 * (`TokenResponseInterceptor`, also where the routes are mounted at the root).
 */
@Injectable()
@UseInterceptors(TokenResponseInterceptor)
export class SessionController {
  constructor(
    private readonly sessions: SessionService,
    private readonly http: SessionHttpService,
    private readonly transport: SessionTransport,
  ) {}

  // Open: a client refreshes because its access token has expired, also under a global SessionGuard.
  @Post('refresh')
  @HttpCode(200)
  @SkipSession()
  refresh(@Req() req: HttpRequestLike, @Res({ passthrough: true }) res: HttpResponseLike, @Body() body: unknown) {
    return this.http.refresh(req, res, body);
  }

  @Post('logout')
  @HttpCode(204)
  @Authenticated()
  async logout(
    @Req() req: HttpRequestLike,
    @Res({ passthrough: true }) res: HttpResponseLike,
    @CurrentSession() s: SessionPrincipal,
  ) {
    const actor = s.impersonator?.id;
    await this.guarded(res, () => this.sessions.revoke(s.userId, s.id, 'logout', clientIp(req), actor));
    // Header-transport clients never got cookies, so they get no Set-Cookie either.
    if (s.transport === 'cookie') this.transport.endCookieSession(res);
  }

  @Post('logout-all')
  @HttpCode(204)
  @Authenticated()
  async logoutAll(
    @Req() req: HttpRequestLike,
    @Res({ passthrough: true }) res: HttpResponseLike,
    @CurrentSession() s: SessionPrincipal,
  ) {
    await this.guarded(res, () => this.sessions.revokeAll(s.userId, 'logout_all', clientIp(req)));
    if (s.transport === 'cookie') this.transport.endCookieSession(res);
  }

  // The CSRF check of @Authenticated() covers cookie clients (unsafe method).
  @Post('logout-others')
  @HttpCode(204)
  @Authenticated()
  async logoutOthers(
    @Req() req: HttpRequestLike,
    @Res({ passthrough: true }) res: HttpResponseLike,
    @CurrentSession() s: SessionPrincipal,
  ): Promise<void> {
    await this.guarded(res, () => this.sessions.revokeOthers(s.userId, s.id, 'logout_others', clientIp(req)));
  }

  @Get('sessions')
  @Authenticated()
  async list(
    @Res({ passthrough: true }) res: HttpResponseLike,
    @CurrentSession() s: SessionPrincipal,
  ): Promise<SessionListEntry[]> {
    const records = await this.guarded(res, () => this.sessions.list(s.userId));
    return records.map((r) => ({
      id: r.id,
      createdAt: new Date(r.createdAt).toISOString(),
      lastSeenAt: new Date(r.lastSeenAt).toISOString(),
      userAgent: r.userAgent,
      ip: r.ip,
      // A session stored before labels existed gets one from the User-Agent prefix that was kept.
      device: r.device ?? deviceLabel(r.userAgent),
      current: r.id === s.id,
      ...(r.impersonator ? { impersonator: { id: r.impersonator.id } } : {}),
    }));
  }

  @Delete('sessions/:id')
  @HttpCode(204)
  @Authenticated()
  async revokeOne(
    @Req() req: HttpRequestLike,
    @Res({ passthrough: true }) res: HttpResponseLike,
    @CurrentSession() s: SessionPrincipal,
    @Param('id') id: string,
  ): Promise<void> {
    // Unknown ids and other users' ids answer alike, so existence is not revealed.
    const existed =
      SESSION_ID_PATTERN.test(id) &&
      (await this.guarded(res, () =>
        this.sessions.revoke(
          s.userId,
          id,
          'revoked_by_user',
          clientIp(req),
          id === s.id ? s.impersonator?.id : undefined,
        ),
      ));
    if (!existed) throw new NotFoundException('No such session');
    if (id === s.id && s.transport === 'cookie') this.transport.endCookieSession(res);
  }

  @Get('csrf')
  @Authenticated()
  csrf(@CurrentSession() s: SessionPrincipal): { csrfToken: string } {
    return { csrfToken: this.sessions.csrfToken(s.id) };
  }

  private async guarded<T>(res: HttpResponseLike, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw this.transport.refuse(res, err, false);
    }
  }
}

/** A controller class mounted at `prefix`; a subclass per module so prefixes never collide. */
export function createSessionController(prefix: string): typeof SessionController {
  class MountedSessionController extends SessionController {}
  Controller(prefix)(MountedSessionController);
  return MountedSessionController;
}
