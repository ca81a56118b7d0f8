import { randomBytes } from 'node:crypto';
import {
  Body,
  Controller,
  Get,
  HttpCode,
  Module,
  Post,
  Req,
  Res,
  UseGuards,
  UseInterceptors,
  type DynamicModule,
} from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { redisInsStore } from 'cache-manager-redis-yet';
import {
  Authenticated,
  CurrentUser,
  type HttpRequestLike,
  SessionCleanupService,
  SessionHttpService,
  TokenResponseInterceptor,
  type SessionJwtUser,
  SessionModule,
  type SessionModuleOptions,
} from 'nestjs-jwt-session';
import { checkLogin, env, HealthController, meBody, type RedisClient } from './common.js';

/** Login as an app writes it: its own credential check (trivial here), then the module's login. */
@Controller()
class LoginController {
  constructor(private readonly http: SessionHttpService) {}

  @Post('auth/login')
  @HttpCode(200)
  async login(@Req() req: HttpRequestLike, @Res({ passthrough: true }) res: unknown, @Body() body: unknown) {
    const id = checkLogin(body);
    const answer = await this.http.login(req, res, { id, roles: ['user'] });
    return { user: { id }, ...answer };
  }
}

/** `GET /me` through `@Authenticated()` (guard + interceptor). */
@Controller()
class AuthenticatedController {
  @Get('me')
  @Authenticated()
  me(@CurrentUser() user: { id: string }) {
    return meBody(user.id);
  }
}

/** Experiment: `@Authenticated()` plus `TokenResponseInterceptor` (what an opted-in route pays for the interceptor pipeline). */
@Controller()
class WithInterceptorController {
  @Get('me')
  @Authenticated()
  @UseInterceptors(TokenResponseInterceptor)
  me(@CurrentUser() user: { id: string }) {
    return meBody(user.id);
  }
}

/** `GET /me` through the module's Passport strategy. */
@Controller()
class PassportController {
  @Get('me')
  @UseGuards(AuthGuard('session-jwt'))
  me(@Req() req: { user: SessionJwtUser }) {
    return meBody(req.user.id);
  }
}

/** Cleanup-tick scenario only: runs one tick by hand and says how long it took. */
@Controller()
class AdminController {
  constructor(private readonly cleanup: SessionCleanupService) {}

  @Post('bench/cleanup')
  @HttpCode(200)
  async run() {
    const started = performance.now();
    const result = await this.cleanup.run();
    return { ...result, ms: performance.now() - started };
  }
}

@Module({})
export class ModulePeer {
  /** `extra`: more module options (the `module-cached` peer turns `localCache` on). */
  static register(
    client: RedisClient,
    guard: 'authenticated' | 'passport' | 'with-interceptor',
    extra: Partial<SessionModuleOptions> = {},
  ): DynamicModule {
    return {
      module: ModulePeer,
      imports: [
        SessionModule.forRoot({
          // Replicas of one app share a secret (bench/invalidation.mjs); otherwise one per process.
          secret: process.env.BENCH_SECRET ? Buffer.from(process.env.BENCH_SECRET, 'hex') : randomBytes(32),
          store: redisInsStore(client as never),
          redis: { keyPrefix: `${env.prefix}sess:` },
          // Ticks are run by hand in their own scenario, never in the middle of a measured run.
          cleanup: { enabled: false },
          ...extra,
        }),
      ],
      controllers: [
        HealthController,
        LoginController,
        {
          authenticated: AuthenticatedController,
          passport: PassportController,
          'with-interceptor': WithInterceptorController,
        }[guard],
        ...(env.admin ? [AdminController] : []),
      ],
    };
  }
}
