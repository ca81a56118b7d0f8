import { randomBytes } from 'node:crypto';
import {
  Body,
  type CanActivate,
  Controller,
  type ExecutionContext,
  Get,
  HttpCode,
  Injectable,
  Module,
  Post,
  Req,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { RedisStore } from 'connect-redis';
import session from 'express-session';
import { checkLogin, env, HealthController, meBody, type RedisClient } from './common.js';

declare module 'express-session' {
  interface SessionData {
    userId: string;
  }
}

type SessionRequest = { session: { userId?: string } };

/** The classic setup: express-session with connect-redis, its defaults (touch on read), a guard reading the session. */
@Injectable()
class SessionAuthGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (typeof context.switchToHttp().getRequest<SessionRequest>().session?.userId === 'string') return true;
    throw new UnauthorizedException();
  }
}

@Controller()
class ExpressSessionController {
  @Post('auth/login')
  @HttpCode(200)
  login(@Req() req: SessionRequest, @Body() body: unknown) {
    const id = checkLogin(body);
    req.session.userId = id;
    return { user: { id } };
  }

  @Get('me')
  @UseGuards(SessionAuthGuard)
  me(@Req() req: SessionRequest) {
    return meBody(req.session.userId as string);
  }
}

@Module({ controllers: [HealthController, ExpressSessionController] })
export class ExpressSessionModule {
  static configure(app: NestExpressApplication, client: RedisClient): void {
    app.use(
      session({
        store: new RedisStore({ client, prefix: `${env.prefix}es:` }),
        secret: randomBytes(32).toString('base64url'),
        name: 'sid',
        resave: false,
        saveUninitialized: false,
        cookie: { httpOnly: true, sameSite: 'lax', secure: false, maxAge: 1800_000 },
      }),
    );
  }
}
