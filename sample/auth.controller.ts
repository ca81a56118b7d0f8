import { BadRequestException, Body, Controller, HttpCode, Post, Req, Res, UnauthorizedException } from '@nestjs/common';
import { type HttpRequestLike, SessionHttpService, SessionService } from '../lib/index.js';
import { UsersService } from './users.service.js';

@Controller('auth')
export class AuthController {
  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionService,
    private readonly http: SessionHttpService,
  ) {}

  /** Credentials are the app's business; the module creates the session and answers. Throttled in login-throttle.ts. */
  @Post('login')
  @HttpCode(200)
  async login(@Req() req: HttpRequestLike, @Res({ passthrough: true }) res: unknown, @Body() body: unknown) {
    // 415 for a form post before any password is checked (http.login refuses it too).
    this.http.assertJsonBody(req);
    const { email, password } = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    if (typeof email !== 'string' || typeof password !== 'string' || email.length > 254 || password.length > 1024) {
      throw new BadRequestException('Body must be {"email": string, "password": string}');
    }
    const user = await this.users.verify(email, password);
    if (!user) {
      this.sessions.reportLoginFailure(email, req.ip);
      throw new UnauthorizedException('Invalid email or password');
    }
    const answer = await this.http.login(req, res, { id: user.id, roles: [user.role] });
    return { user, ...answer };
  }
}
