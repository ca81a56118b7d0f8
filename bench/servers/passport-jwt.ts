import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Injectable,
  Module,
  Post,
  Req,
  UseGuards,
  type DynamicModule,
} from '@nestjs/common';
import { AuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport';
import jwt from 'jsonwebtoken';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { checkLogin, HealthController, meBody } from './common.js';

const KEY = Symbol('jwt key');

/** The usual NestJS setup: passport-jwt behind `AuthGuard('jwt')`, HS256, stateless. */
@Injectable()
class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(@Inject(KEY) key: KeyObject | string) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // passport-jwt's types name strings and Buffers; jsonwebtoken accepts a KeyObject too.
      secretOrKey: key as string,
      algorithms: ['HS256'],
    });
  }

  validate(payload: { sub: string }) {
    return { id: payload.sub };
  }
}

@Controller()
class JwtController {
  constructor(@Inject(KEY) private readonly key: KeyObject | string) {}

  @Post('auth/login')
  @HttpCode(200)
  login(@Body() body: unknown) {
    const id = checkLogin(body);
    return { accessToken: jwt.sign({ sub: id }, this.key, { algorithm: 'HS256', expiresIn: 900 }) };
  }

  @Get('me')
  @UseGuards(AuthGuard('jwt'))
  me(@Req() req: { user: { id: string } }) {
    return meBody(req.user.id);
  }
}

@Module({})
export class PassportJwtModule {
  /** `keyObject`: the secret as a `crypto.createSecretKey` KeyObject; otherwise the plain string. */
  static register(keyObject: boolean): DynamicModule {
    const secret = randomBytes(32).toString('base64url');
    return {
      module: PassportJwtModule,
      imports: [PassportModule],
      controllers: [HealthController, JwtController],
      providers: [{ provide: KEY, useValue: keyObject ? createSecretKey(Buffer.from(secret)) : secret }, JwtStrategy],
    };
  }
}
