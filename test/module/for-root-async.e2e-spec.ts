import { generateKeyPairSync } from 'node:crypto';
import { Controller, Get, Injectable, Module, UseGuards, type INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  Authenticated,
  CurrentSession,
  Public,
  SessionConfigError,
  SessionGuard,
  SessionHttpService,
  SessionModule,
  type SessionModuleOptions,
  type SessionOptionsFactory,
  type SessionPrincipal,
  SessionService,
} from '../../lib/index.js';
import { TEST_SECRET } from '../utils/sample-app.js';

@Controller()
class ProbeController {
  constructor(private readonly http: SessionHttpService) {}

  @Get('open')
  open() {
    return { open: true };
  }

  @Get('closed')
  @Authenticated()
  closed(@CurrentSession() s: SessionPrincipal) {
    return { user: s.userId, transport: s.transport };
  }

  @Get('passport')
  @UseGuards(AuthGuard('session-jwt'))
  passport() {
    return { ok: true };
  }
}

@Controller()
class GlobalGuardController {
  @Get('default-closed')
  closed() {
    return { ok: true };
  }

  @Get('public')
  @Public()
  open() {
    return { ok: true };
  }
}

@Injectable()
class OptionsFromClass implements SessionOptionsFactory {
  createSessionOptions(): SessionModuleOptions {
    return { secret: TEST_SECRET };
  }
}

@Module({ providers: [OptionsFromClass], exports: [OptionsFromClass] })
class ConfigModule {}

async function boot(imports: unknown[], controllers: unknown[] = [ProbeController], providers: unknown[] = []) {
  const moduleRef = await Test.createTestingModule({
    imports: imports as never[],
    controllers: controllers as never[],
    providers: providers as never[],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  return app;
}

async function bearer(app: INestApplication): Promise<string> {
  const tokens = await app.get(SessionService).create({ id: 'u1', roles: ['user'] });
  return tokens.accessToken;
}

describe('SessionModule.forRoot / forRootAsync', () => {
  const cases: Array<[string, () => unknown[]]> = [
    ['forRoot', () => [SessionModule.forRoot({ secret: TEST_SECRET })]],
    [
      'forRootAsync useFactory',
      () => [SessionModule.forRootAsync({ useFactory: async () => ({ secret: TEST_SECRET }) })],
    ],
    ['forRootAsync useClass', () => [SessionModule.forRootAsync({ useClass: OptionsFromClass })]],
    [
      'forRootAsync useExisting',
      () => [SessionModule.forRootAsync({ imports: [ConfigModule], useExisting: OptionsFromClass })],
    ],
  ];

  it.each(cases)('%s wires the guard, the controller and the service', async (_name, imports) => {
    const app = await boot(imports());
    try {
      const token = await bearer(app);
      await request(app.getHttpServer()).get('/closed').expect(401);
      const res = await request(app.getHttpServer()).get('/closed').set('Authorization', `Bearer ${token}`).expect(200);
      expect(res.body).toEqual({ user: 'u1', transport: 'bearer' });
      await request(app.getHttpServer()).get('/auth/sessions').set('Authorization', `Bearer ${token}`).expect(200);
    } finally {
      await app.close();
    }
  });

  it('routes: { prefix } mounts the controller elsewhere; routes: false mounts none', async () => {
    const moved = await boot([
      SessionModule.forRootAsync({ useFactory: () => ({ secret: TEST_SECRET }), routes: { prefix: 'session' } }),
    ]);
    try {
      const token = await bearer(moved);
      await request(moved.getHttpServer()).get('/session/sessions').set('Authorization', `Bearer ${token}`).expect(200);
      await request(moved.getHttpServer()).get('/auth/sessions').set('Authorization', `Bearer ${token}`).expect(404);
    } finally {
      await moved.close();
    }
    const none = await boot([
      SessionModule.forRootAsync({ useFactory: () => ({ secret: TEST_SECRET }), routes: false }),
    ]);
    try {
      const token = await bearer(none);
      await request(none.getHttpServer()).get('/auth/sessions').set('Authorization', `Bearer ${token}`).expect(404);
      await request(none.getHttpServer()).get('/closed').set('Authorization', `Bearer ${token}`).expect(200);
    } finally {
      await none.close();
    }
  });

  it('is global by default; isGlobal: false keeps its providers to importers', async () => {
    @Module({ controllers: [ProbeController] })
    class FeatureModule {}
    const global = await Test.createTestingModule({
      imports: [SessionModule.forRootAsync({ useFactory: () => ({ secret: TEST_SECRET }) }), FeatureModule],
    }).compile();
    expect(global.get(SessionHttpService)).toBeInstanceOf(SessionHttpService);
    await global.close();
    // The first provider Nest cannot find from FeatureModule: the guard's SessionService.
    await expect(
      Test.createTestingModule({
        imports: [
          SessionModule.forRootAsync({ useFactory: () => ({ secret: TEST_SECRET }), isGlobal: false }),
          FeatureModule,
        ],
      }).compile(),
    ).rejects.toThrow(/argument SessionService at index \[\d+\] is available in the FeatureModule/);
  });

  it('the Passport strategy session-jwt authenticates against the session store', async () => {
    const app = await boot([SessionModule.forRoot({ secret: TEST_SECRET })]);
    try {
      const service = app.get(SessionService);
      const tokens = await service.create({ id: 'u2' });
      await request(app.getHttpServer())
        .get('/passport')
        .set('Authorization', `Bearer ${tokens.accessToken}`)
        .expect(200);
      await request(app.getHttpServer())
        .get('/passport')
        .set('Authorization', `Bearer ${tokens.refreshToken}`)
        .expect(401);
      await service.revoke('u2', tokens.sessionId);
      await request(app.getHttpServer())
        .get('/passport')
        .set('Authorization', `Bearer ${tokens.accessToken}`)
        .expect(401);
    } finally {
      await app.close();
    }
  });

  it('EdDSA access tokens: @Authenticated() and refresh work; the Passport strategy refuses them with 401 (jsonwebtoken has no EdDSA)', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const app = await boot([
      SessionModule.forRoot({ secret: TEST_SECRET, accessToken: { algorithm: 'EdDSA', privateKey, publicKey } }),
    ]);
    try {
      const server = app.getHttpServer();
      const tokens = await app.get(SessionService).create({ id: 'u-ed' });
      expect(JSON.parse(Buffer.from(tokens.accessToken.split('.')[0], 'base64url').toString())).toEqual({
        alg: 'EdDSA',
        typ: 'at+jwt',
      });
      await request(server).get('/closed').set('Authorization', `Bearer ${tokens.accessToken}`).expect(200);
      const refreshed = await request(server)
        .post('/auth/refresh')
        .send({ refreshToken: tokens.refreshToken })
        .expect(200);
      await request(server).get('/closed').set('Authorization', `Bearer ${refreshed.body.accessToken}`).expect(200);
      await request(server).get('/passport').set('Authorization', `Bearer ${tokens.accessToken}`).expect(401);
    } finally {
      await app.close();
    }
  });

  it('a global SessionGuard closes every route except @Public()', async () => {
    const app = await boot(
      [SessionModule.forRoot({ secret: TEST_SECRET })],
      [GlobalGuardController],
      [{ provide: APP_GUARD, useExisting: SessionGuard }],
    );
    try {
      await request(app.getHttpServer()).get('/default-closed').expect(401);
      await request(app.getHttpServer()).get('/public').expect(200);
      const token = await bearer(app);
      await request(app.getHttpServer()).get('/default-closed').set('Authorization', `Bearer ${token}`).expect(200);
      // The module's refresh route stays reachable without an access token (that is when clients refresh)…
      const tokens = await app.get(SessionService).create({ id: 'u-global' });
      const refreshed = await request(app.getHttpServer())
        .post('/auth/refresh')
        .send({ refreshToken: tokens.refreshToken })
        .expect(200);
      expect(refreshed.body.refreshToken).not.toBe(tokens.refreshToken);
      // …while its other routes stay closed.
      await request(app.getHttpServer()).get('/auth/sessions').expect(401);
      await request(app.getHttpServer()).post('/auth/logout').expect(401);
    } finally {
      await app.close();
    }
  });

  it.each([
    [{ secret: 'too-short' }, /at least 32/],
    [{ secret: 'change-me-change-me-change-me-change-me' }, /placeholder/],
    [{ secret: TEST_SECRET, accessToken: { ttl: 3600 }, idleTimeout: 1800 }, /shorter than idleTimeout/],
    [{ secret: TEST_SECRET, idleTimeout: 7200, absoluteTimeout: 3600 }, /must not exceed absoluteTimeout/],
    [{}, /set `secret`/],
  ] as Array<[SessionModuleOptions, RegExp]>)('refuses to start with %j', async (options, message) => {
    const moduleRef = Test.createTestingModule({ imports: [SessionModule.forRoot(options)] });
    const error = await moduleRef.compile().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SessionConfigError);
    expect((error as Error).message).toMatch(message);
  });
});
