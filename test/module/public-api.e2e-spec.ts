/**
 * The public API (issue 11 item 4): what users inject works from their own modules, the module
 * exports exactly the providers the package entry exports, nothing internal is exported, and the
 * test-only clock is not an option.
 */
import { Controller, Get, Inject, Injectable, type INestApplication, Module, type DynamicModule } from '@nestjs/common';
import { INJECTABLE_WATERMARK } from '@nestjs/common/constants.js';
import { Test } from '@nestjs/testing';
import { redisInsStore } from 'cache-manager-redis-yet';
import { createClient } from 'redis';
import request from 'supertest';
import * as api from '../../lib/index.js';
import {
  getSessionOptionsToken,
  getSessionRepositoryToken,
  InjectSessionOptions,
  InjectSessionRepository,
  MemorySessionRepository,
  SessionModule,
  type SessionModuleOptions,
  type SessionRepository,
  SessionService,
} from '../../lib/index.js';
import { TEST_SECRET } from '../utils/sample-app.js';

/** A provider of another module that injects what the session module offers. */
@Injectable()
class SessionSettingsReader {
  constructor(
    @InjectSessionOptions() readonly options: SessionModuleOptions,
    @Inject(getSessionOptionsToken()) readonly sameOptions: SessionModuleOptions,
    @InjectSessionRepository() readonly repository: SessionRepository,
    readonly sessions: SessionService,
  ) {}
}

@Controller('settings')
class SettingsController {
  constructor(private readonly reader: SessionSettingsReader) {}

  @Get()
  read() {
    const { options, sameOptions, repository, sessions } = this.reader;
    return {
      refreshGrace: options.refreshGrace,
      same: options === sameOptions,
      repository: repository.kind,
      storeKind: sessions.storeKind,
    };
  }
}

/** Knows nothing of the session module beyond what it injects. */
@Module({ controllers: [SettingsController], providers: [SessionSettingsReader] })
class FeatureModule {}

async function serve(sessionModule: DynamicModule): Promise<{ app: INestApplication; url: string }> {
  @Module({ imports: [sessionModule, FeatureModule] })
  class AppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  return { app, url: `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}` };
}

describe('injecting the session options and repository from another module', () => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it.each([
    ['forRoot', () => SessionModule.forRoot({ secret: TEST_SECRET, refreshGrace: 7 })],
    [
      'forRootAsync',
      () => SessionModule.forRootAsync({ useFactory: async () => ({ secret: TEST_SECRET, refreshGrace: 7 }) }),
    ],
  ])('%s: a feature module provider gets the options as given, the repository and the service', async (_name, make) => {
    const served = await serve(make());
    app = served.app;
    const res = await request(served.url).get('/settings').expect(200);
    expect(res.body).toEqual({ refreshGrace: 7, same: true, repository: 'memory', storeKind: 'memory' });
  });

  it('the repository injected elsewhere is the one the module uses (a user-supplied store)', async () => {
    const store = new MemorySessionRepository();
    const served = await serve(SessionModule.forRoot({ secret: TEST_SECRET, store }));
    app = served.app;
    expect(served.app.get(SessionSettingsReader).repository).toBe(store);
    expect(served.app.get(getSessionRepositoryToken())).toBe(store);
  });

  it('isGlobal: false — the module that imports SessionModule.forRoot() still gets the exported options', async () => {
    @Module({
      imports: [SessionModule.forRoot({ secret: TEST_SECRET, refreshGrace: 3, isGlobal: false })],
      controllers: [SettingsController],
      providers: [SessionSettingsReader],
    })
    class LocalModule {}
    const moduleRef = await Test.createTestingModule({ imports: [LocalModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    const url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    const res = await request(url).get('/settings').expect(200);
    expect(res.body).toMatchObject({ refreshGrace: 3, same: true, repository: 'memory' });
  });
});

describe('module exports and the package entry', () => {
  const name = (token: unknown): string =>
    typeof token === 'function' ? token.name : typeof token === 'symbol' ? token.toString() : String(token);

  it('SessionModule exports exactly the injectable providers and tokens that lib/index.ts exports', () => {
    const moduleExports = (Reflect.getMetadata('exports', SessionModule) as unknown[]).map(name).sort();
    const fromBarrel: unknown[] = [
      ...Object.values(api).filter(
        (v) => (typeof v === 'function' && Reflect.hasMetadata(INJECTABLE_WATERMARK, v)) || typeof v === 'symbol',
      ),
      getSessionOptionsToken(),
      getSessionRepositoryToken(),
    ];
    expect([...new Set(fromBarrel.map(name))].sort()).toEqual(moduleExports);
  });

  it('exports these values and nothing internal', () => {
    expect(Object.keys(api).sort()).toEqual([
      'AUTHENTICATED_KEY',
      'Authenticated',
      'CurrentSession',
      'CurrentUser',
      'HKDF_INFO',
      'InjectSessionOptions',
      'InjectSessionRepository',
      'MemorySessionRepository',
      'MemorySessionSignal',
      'Public',
      'RedisSessionRepository',
      'RedisSessionSignal',
      'SESSION_CLEANUP_JOB',
      'SESSION_ENDED_CLOSE_CODE',
      'SESSION_JWT_STRATEGY',
      'SKIP_CSRF_KEY',
      'SKIP_SESSION_KEY',
      'SessionCleanupService',
      'SessionConfigError',
      'SessionCsrfPolicy',
      'SessionDbscService',
      'SessionEndedSignal',
      'SessionEvents',
      'SessionForbiddenError',
      'SessionGraphQLError',
      'SessionGuard',
      'SessionHealthIndicator',
      'SessionHttpService',
      'SessionJwksController',
      'SessionJwksService',
      'SessionJwtStrategy',
      'SessionLimitError',
      'SessionModule',
      'SessionRepository',
      'SessionService',
      'SessionSockets',
      'SessionStepUpRequiredError',
      'SessionStoreUnavailableError',
      'SessionTransport',
      'SessionUnauthorizedError',
      'SkipCsrf',
      'SkipSession',
      'TokenResponseInterceptor',
      'deviceLabel',
      'getSessionOptionsToken',
      'getSessionRepositoryToken',
    ]);
  });
});

describe('options the public type no longer has', () => {
  it('`clock` is not an option: given anyway (untyped JS), the module keeps real time', async () => {
    // @ts-expect-error the test clock is internal (SESSION_CLOCK), not part of SessionModuleOptions
    const options: SessionModuleOptions = { secret: TEST_SECRET, clock: () => 0 };
    const moduleRef = await Test.createTestingModule({ imports: [SessionModule.forRoot(options)] }).compile();
    const before = Date.now();
    const tokens = await moduleRef.get(SessionService).create({ id: 'u-clock' });
    expect(tokens.accessTokenExpiresAt.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 900_000);
    await moduleRef.close();
  });

  it('`store` takes a cache-manager-redis-yet store as is, and refuses a client the repository cannot drive', () => {
    // Types only: nothing connects.
    const good: SessionModuleOptions = { store: redisInsStore(createClient()) };
    // @ts-expect-error a client without evalSha/eval/scan/ping is no node-redis client
    const bad: SessionModuleOptions = { store: { name: 'redis', client: { get: () => undefined } } };
    expect([good.store, bad.store]).toHaveLength(2);
  });
});
