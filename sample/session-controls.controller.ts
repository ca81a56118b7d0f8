import {
  BadRequestException,
  Body,
  Controller,
  ForbiddenException,
  HttpCode,
  NotFoundException,
  Post,
  Req,
  Res,
  UnauthorizedException,
} from '@nestjs/common';
import {
  Authenticated,
  CurrentSession,
  type HttpRequestLike,
  type HttpResponseLike,
  type SessionPrincipal,
  SessionHttpService,
  SessionService,
  SessionTransport,
} from '../lib/index.js';
import { UsersService } from './users.service.js';

/** `{ name: string }` of at most `max` characters, or a 400. */
function stringField(body: unknown, name: string, max = 1024): string {
  const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw new BadRequestException(`Body must have "${name}": a string of 1-${max} characters`);
  }
  return value;
}

/** Re-authentication (step-up), password change and impersonation: the app checks credentials, the module the sessions. */
@Controller()
export class SessionControlsController {
  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionService,
    private readonly http: SessionHttpService,
    private readonly transport: SessionTransport,
  ) {}

  @Post('auth/reauth')
  @HttpCode(200)
  @Authenticated()
  async reauth(
    @Req() req: HttpRequestLike,
    @Res({ passthrough: true }) res: HttpResponseLike,
    @CurrentSession() s: SessionPrincipal,
    @Body() body: unknown,
  ) {
    const password = stringField(body, 'password');
    await this.checkPassword(req, s.userId, password);
    const authTime = await this.store(res, s, () => this.sessions.reauthenticate(s, req.ip));
    return { authTime: authTime.toISOString() };
  }

  @Post('account/password')
  @HttpCode(204)
  @Authenticated({ fresh: true })
  async changePassword(
    @Req() req: HttpRequestLike,
    @Res({ passthrough: true }) res: HttpResponseLike,
    @CurrentSession() s: SessionPrincipal,
    @Body() body: unknown,
  ): Promise<void> {
    if (s.impersonator) throw new ForbiddenException('An impersonation session cannot change the password');
    const current = stringField(body, 'currentPassword');
    const next = stringField(body, 'newPassword');
    if (next.length < 12) throw new BadRequestException('newPassword must have at least 12 characters');
    await this.checkPassword(req, s.userId, current);
    await this.users.setPassword(s.userId, next);
    await this.store(res, s, () => this.sessions.credentialsChanged(s, req.ip));
  }

  @Post('admin/impersonate')
  @HttpCode(200)
  @Authenticated({ roles: ['admin'], fresh: true })
  async impersonate(
    @Req() req: HttpRequestLike,
    @Res({ passthrough: true }) res: HttpResponseLike,
    @CurrentSession() s: SessionPrincipal,
    @Body() body: unknown,
  ) {
    if (s.impersonator) throw new ForbiddenException('An impersonation session cannot impersonate');
    const target = this.users.byId(stringField(body, 'userId', 256));
    if (!target) throw new NotFoundException('No such user');
    const answer = await this.http.impersonate(req, res, s, { id: target.id, roles: [target.role] });
    return { user: target, impersonator: { id: s.userId }, ...answer };
  }

  /** A wrong password is a 401 that leaves the session as it was. */
  private async checkPassword(req: HttpRequestLike, userId: string, password: string): Promise<void> {
    if (await this.users.verifyById(userId, password)) return;
    this.sessions.reportLoginFailure(this.users.byId(userId)?.email ?? userId, req.ip);
    throw new UnauthorizedException('Wrong password');
  }

  /** Store errors answer 503 with Retry-After, a gone session 401. */
  private async store<T>(res: HttpResponseLike, s: SessionPrincipal, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw this.transport.refuse(res, err, s.transport === 'bearer');
    }
  }
}
