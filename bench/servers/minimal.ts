import { createSecretKey, randomBytes } from 'node:crypto';
import {
  Body,
  type CanActivate,
  Controller,
  type ExecutionContext,
  Get,
  HttpCode,
  Inject,
  Injectable,
  Module,
  Post,
  Req,
  UnauthorizedException,
  UseGuards,
  type DynamicModule,
} from '@nestjs/common';
import jwt from 'jsonwebtoken';
import { checkLogin, env, HealthController, meBody, type RedisClient } from './common.js';

const REDIS = Symbol('redis');
/** Built once: a KeyObject, so jsonwebtoken never parses the secret per request. */
const KEY = createSecretKey(randomBytes(32));
const sessionKey = (sid: string) => `${env.prefix}min:${sid}`;

type Req = { headers: Record<string, string | undefined>; user?: { id: string } };

/** The least a Redis-checked JWT can cost: one HS256 verify, one GET. */
@Injectable()
class MinimalGuard implements CanActivate {
  constructor(@Inject(REDIS) private readonly redis: RedisClient) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Req>();
    const auth = req.headers.authorization;
    if (!auth?.startsWith('Bearer ')) throw new UnauthorizedException();
    let claims: { sub?: unknown; sid?: unknown };
    try {
      claims = jwt.verify(auth.slice(7), KEY, { algorithms: ['HS256'] });
    } catch {
      throw new UnauthorizedException();
    }
    if (typeof claims.sid !== 'string' || typeof claims.sub !== 'string') throw new UnauthorizedException();
    if ((await this.redis.get(sessionKey(claims.sid))) === null) throw new UnauthorizedException();
    req.user = { id: claims.sub };
    // Experiment `minimal-headers`: the response headers this module sets on authenticated answers.
    if (env.peer === 'minimal-headers') {
      const res = context.switchToHttp().getResponse<{ setHeader(name: string, value: string): void }>();
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('Pragma', 'no-cache');
      res.setHeader('X-Content-Type-Options', 'nosniff');
    }
    return true;
  }
}

@Controller()
class MinimalController {
  constructor(@Inject(REDIS) private readonly redis: RedisClient) {}

  @Post('auth/login')
  @HttpCode(200)
  async login(@Body() body: unknown) {
    const id = checkLogin(body);
    const sid = randomBytes(16).toString('base64url');
    await this.redis.set(sessionKey(sid), id, { EX: 1800 });
    return { accessToken: jwt.sign({ sub: id, sid }, KEY, { algorithm: 'HS256', expiresIn: 900 }) };
  }

  @Get('me')
  @UseGuards(MinimalGuard)
  me(@Req() req: Req) {
    return meBody(req.user!.id);
  }
}

@Module({})
export class MinimalModule {
  static register(client: RedisClient): DynamicModule {
    return {
      module: MinimalModule,
      controllers: [HealthController, MinimalController],
      providers: [{ provide: REDIS, useValue: client }, MinimalGuard],
    };
  }
}
