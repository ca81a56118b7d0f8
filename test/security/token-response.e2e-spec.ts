/**
 * TokenResponseInterceptor (S-44): an app's own login route that opts in gets `no-store`,
 * `Pragma`, `nosniff` and `Referrer-Policy: no-referrer` on every answer, including the 401 its
 * own code throws before `SessionHttpService.login()`; routes that do not opt in (GET /me, a
 * login route without it) pay nothing and get no Referrer-Policy. Express and Fastify, memory and
 * a real Redis.
 */
import {
  Body,
  Controller,
  HttpCode,
  type INestApplication,
  Module,
  Post,
  Req,
  Res,
  UnauthorizedException,
  UseInterceptors,
} from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  type HttpRequestLike,
  SessionHttpService,
  type SessionModuleOptions,
  TokenResponseInterceptor,
} from '../../lib/index.js';
import { AppModule } from '../../sample/app.module.js';
import { STORES } from '../e2e/helpers/store-matrix.js';
import { type RedisProcess, startRedis } from '../utils/redis.js';
import { TEST_SECRET } from '../utils/sample-app.js';
import { parseSetCookies } from '../utils/set-cookie.js';

const TOKEN_HEADERS = {
  'cache-control': 'no-store',
  pragma: 'no-cache',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

function checkPassword(body: unknown): void {
  if ((body as { password?: unknown } | null)?.password !== 'right') throw new UnauthorizedException();
}

/** Outside the module's route prefix, so the module's own header listener does not cover it. */
@Controller('app')
class AppLoginController {
  constructor(private readonly http: SessionHttpService) {}

  @Post('login')
  @HttpCode(200)
  @UseInterceptors(TokenResponseInterceptor)
  login(@Req() req: HttpRequestLike, @Res({ passthrough: true }) res: unknown, @Body() body: unknown) {
    checkPassword(body);
    return this.http.login(req, res, { id: 'u-app' });
  }

  @Post('plain-login')
  @HttpCode(200)
  plainLogin(@Req() req: HttpRequestLike, @Res({ passthrough: true }) res: unknown, @Body() body: unknown) {
    checkPassword(body);
    return this.http.login(req, res, { id: 'u-app' });
  }
}

let redis: RedisProcess;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis?.stop());

describe.each(['express', 'fastify'] as const)('TokenResponseInterceptor on %s', (adapter) => {
  describe.each(STORES)('on the $name store', (store) => {
    let app: INestApplication;
    let url: string;
    let closeStore: () => Promise<void>;

    beforeAll(async () => {
      const s = await store.create(() => redis.url);
      closeStore = s.close;
      const options: Partial<SessionModuleOptions> = { secret: TEST_SECRET, ...s.options };
      @Module({ imports: [AppModule.register(options)], controllers: [AppLoginController] })
      class TestModule {}
      const moduleRef = await Test.createTestingModule({ imports: [TestModule] }).compile();
      app =
        adapter === 'fastify'
          ? moduleRef.createNestApplication(new FastifyAdapter(), { logger: false })
          : moduleRef.createNestApplication({ logger: false });
      await app.listen(0, '127.0.0.1');
      url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    });
    afterAll(async () => {
      await app?.close();
      await closeStore?.();
    });

    it("the app's own 401 before login() carries the token-answer headers", async () => {
      const res = await request(url).post('/app/login').send({ password: 'wrong' });
      expect(res.status).toBe(401);
      expect(res.headers).toMatchObject(TOKEN_HEADERS);
      expect(res.headers['set-cookie']).toBeUndefined();
    });

    it('a successful login through the route carries them too, with both cookies', async () => {
      const res = await request(url).post('/app/login').send({ password: 'right' });
      expect(res.status).toBe(200);
      expect(res.headers).toMatchObject(TOKEN_HEADERS);
      expect(
        parseSetCookies(res)
          .map((c) => c.name)
          .sort(),
      ).toEqual(['__Host-session', '__Secure-refresh']);
    });

    it('only routes that opt in: a login route without it and GET /me get no Referrer-Policy', async () => {
      const plain = await request(url).post('/app/plain-login').send({ password: 'wrong' });
      expect(plain.status).toBe(401);
      expect(plain.headers['referrer-policy']).toBeUndefined();
      expect(plain.headers['cache-control']).not.toBe('no-store');

      const { body } = await request(url)
        .post('/app/login')
        .set('X-Auth-Transport', 'header')
        .send({ password: 'right' })
        .expect(200);
      const me = await request(url).get('/me').set('Authorization', `Bearer ${body.accessToken}`);
      expect(me.status).toBe(200);
      expect(me.headers['cache-control']).toBe('no-store');
      expect(me.headers['referrer-policy']).toBeUndefined();
    });
  });
});
