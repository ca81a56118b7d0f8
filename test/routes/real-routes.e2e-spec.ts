/**
 * Cookie paths and the no-store listener follow where the app really serves the module's routes
 * (DESIGN.md capability 15): a global prefix (and its `exclude`), URI versioning, `RouterModule`,
 * and `routes: false` with `refreshPath`. A path-honouring jar (path-jar.ts) sends the refresh
 * cookie only where a browser would, so a cookie scoped to the wrong path fails the refresh.
 * Both HTTP platforms; the main shape also on a real Redis.
 */
import { Body, Controller, HttpCode, Post, Req, Res, RequestMethod, VersioningType } from '@nestjs/common';
import { RouterModule } from '@nestjs/core';
import request from 'supertest';
import {
  type HttpRequestLike,
  MemorySessionRepository,
  SessionHttpService,
  SessionModule,
  type SessionModuleOptions,
  TokenResponseInterceptor,
} from '../../lib/index.js';
import { UseInterceptors } from '@nestjs/common';
import { ALICE } from '../utils/http.js';
import { type RedisProcess, startRedis } from '../utils/redis.js';
import { type RunningSample } from '../utils/sample-app.js';
import { redisTestStore } from '../utils/stores.js';
import { PathJar } from './path-jar.js';
import { type AppShape, startShapedApp } from './shaped-app.js';

const ADAPTERS = ['express', 'fastify'] as const;
let redis: RedisProcess;
const running: RunningSample[] = [];
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const s of running.splice(0)) await s.close();
  for (const close of closers.splice(0)) await close();
  await redis.stop();
});

async function start(shape: AppShape): Promise<RunningSample> {
  const s = await startShapedApp(shape);
  running.push(s);
  return s;
}

async function storeOptions(store: 'memory' | 'redis'): Promise<Partial<SessionModuleOptions>> {
  if (store === 'memory') return { store: new MemorySessionRepository() };
  const s = await redisTestStore(redis.url);
  closers.push(s.close);
  return { store: s.store, redis: { keyPrefix: `routes${closers.length}:` } };
}

const expectNoStore = (res: { headers: Record<string, unknown> }) =>
  expect(String(res.headers['cache-control'])).toContain('no-store');

describe.each(ADAPTERS.flatMap((adapter) => (['memory', 'redis'] as const).map((store) => ({ adapter, store }))))(
  'global prefix + URI versioning + RouterModule on $adapter, $store store',
  ({ adapter, store }) => {
    // Login is the app's route (/api/v1/auth/login); the module's routes are under RouterModule's `identity`.
    const LOGIN = '/api/v1/auth/login';
    const BASE = '/api/v1/identity/auth';
    let app: RunningSample;

    beforeAll(async () => {
      app = await start({
        adapter,
        options: await storeOptions(store),
        imports: [RouterModule.register([{ path: 'identity', module: SessionModule }])],
        configure: (a) => {
          a.setGlobalPrefix('api');
          a.enableVersioning({ type: VersioningType.URI, defaultVersion: '1' });
        },
      });
    });

    it('the refresh cookie is scoped to the route the refresh handler is served at; the access cookie to /', async () => {
      const jar = new PathJar(app.url);
      jar.absorb(await request(app.url).post(LOGIN).send(ALICE).expect(200));
      expect(jar.paths()).toEqual({ '__Host-session': '/', '__Secure-refresh': `${BASE}/refresh` });
    });

    it('cookie refresh works end to end, and logout clears the refresh cookie at the same path', async () => {
      const jar = new PathJar(app.url);
      jar.absorb(await request(app.url).post(LOGIN).send(ALICE).expect(200));
      await jar.get('/api/v1/me').expect(200);
      const refreshed = await jar.post(`${BASE}/refresh`);
      expect(refreshed.status).toBe(200);
      expect(jar.paths()['__Secure-refresh']).toBe(`${BASE}/refresh`);
      await jar.post(`${BASE}/refresh`).then((r) => expect(r.status).toBe(200)); // the rotated cookie works too
      const logout = await jar.post(`${BASE}/logout`);
      expect(logout.status).toBe(204);
      // Cleared with the Path it was set with, so the browser really drops it.
      expect(jar.paths()).toEqual({});
      await jar.get('/api/v1/me').expect(401);
    });

    it('no-store before routing on the prefixed module paths, in any case, even for answers no handler writes', async () => {
      const broken = await request(app.url)
        .post(`${BASE.toUpperCase()}/REFRESH`)
        .set('Content-Type', 'application/json')
        .send('{"refreshToken":');
      expect(broken.status).toBeGreaterThanOrEqual(400);
      expect(broken.status).toBeLessThan(500);
      expectNoStore(broken);
      const missing = await request(app.url).get(`${BASE}/no-such-route`).expect(404);
      expectNoStore(missing);
      const loginError = await request(app.url).post(LOGIN).send({ email: 'x' }).expect(400);
      expect(loginError.headers['cache-control']).toBeUndefined(); // the app's route, outside the module's
    });
  },
);

describe.each(ADAPTERS)('a JSON-typed POST without a body, as fetch sends it, on %s', (adapter) => {
  it('refresh and logout answer as for no body (Fastify refused the empty JSON body with 400)', async () => {
    const app = await start({ adapter, options: { store: new MemorySessionRepository() } });
    const jar = new PathJar(app.url);
    jar.absorb(await request(app.url).post('/auth/login').send(ALICE).expect(200));
    const emptyJson = (path: string) =>
      jar.post(path, undefined, { 'Content-Type': 'application/json', 'Content-Length': '0' });
    expect((await emptyJson('/auth/refresh')).status).toBe(200);
    expect((await emptyJson('/auth/logout')).status).toBe(204);
  });
});

describe.each(ADAPTERS)('global prefix with the refresh route excluded on %s', (adapter) => {
  it('the cookie Path follows the exclusion: /auth/refresh, and refresh works there', async () => {
    const app = await start({
      adapter,
      options: { store: new MemorySessionRepository() },
      configure: (a) => a.setGlobalPrefix('api', { exclude: [{ path: 'auth/refresh', method: RequestMethod.POST }] }),
    });
    const jar = new PathJar(app.url);
    jar.absorb(await request(app.url).post('/api/auth/login').send(ALICE).expect(200));
    expect(jar.paths()['__Secure-refresh']).toBe('/auth/refresh');
    expect((await jar.post('/auth/refresh')).status).toBe(200);
    await jar.get('/api/me').expect(200);
  });
});

/** An app's own session routes (`routes: false`), under the global prefix: /api/session/{login,refresh}. */
@Controller('session')
@UseInterceptors(TokenResponseInterceptor)
class OwnSessionController {
  constructor(private readonly http: SessionHttpService) {}

  @Post('login')
  @HttpCode(200)
  login(@Req() req: HttpRequestLike, @Res({ passthrough: true }) res: unknown) {
    return this.http.login(req, res, { id: 'u1', roles: ['user'] });
  }

  @Post('refresh')
  @HttpCode(200)
  refresh(@Req() req: HttpRequestLike, @Res({ passthrough: true }) res: unknown, @Body() body: unknown) {
    return this.http.refresh(req, res, body);
  }
}

describe.each(ADAPTERS)('routes: false with refreshPath on %s', (adapter) => {
  const own = (options: Partial<SessionModuleOptions>) =>
    start({
      adapter,
      bare: { options: { ...options, store: new MemorySessionRepository() }, controllers: [OwnSessionController] },
      configure: (a) => a.setGlobalPrefix('api'),
    });

  it('the refresh cookie is scoped to refreshPath and the own refresh route rotates it', async () => {
    const app = await own({ refreshPath: '/api/session/refresh' });
    const jar = new PathJar(app.url);
    jar.absorb(await request(app.url).post('/api/session/login').send({}).expect(200));
    expect(jar.paths()['__Secure-refresh']).toBe('/api/session/refresh');
    const first = jar.paths();
    expect((await jar.post('/api/session/refresh')).status).toBe(200);
    expect(jar.paths()).toEqual(first);
    // no-store before routing under the refresh route's parent, even where no handler answers.
    expectNoStore(await request(app.url).get('/API/Session/nothing').expect(404));
  });

  it('without refreshPath the cookie path is the default route under the global prefix', async () => {
    const app = await own({});
    const login = await request(app.url).post('/api/session/login').send({}).expect(200);
    const jar = new PathJar(app.url);
    jar.absorb(login);
    expect(jar.paths()['__Secure-refresh']).toBe('/api/auth/refresh');
  });

  it('a refreshPath a cookie cannot carry refuses to start', async () => {
    await expect(own({ refreshPath: 'session/refresh' })).rejects.toThrow(/refreshPath "session\/refresh"/);
    await expect(own({ refreshPath: '/api/a;b' })).rejects.toThrow(/refreshPath/);
  });
});
