/**
 * Headers of the module's answers (issue 10 item 10, SECURITY.md S-28, S-44, S-49).
 *
 * - Every answer under the module's route prefix, including errors raised before routing (the
 *   body parser's 400) and the app's own login route, is `no-store` and `nosniff`. The module
 *   applies this itself, matching the path case-insensitively after normalisation, because
 *   Express routes `/AUTH/LOGIN` to `/auth/login`.
 * - Token answers (login, refresh) carry `Referrer-Policy: no-referrer`.
 * - A cookie logout carries `Clear-Site-Data: "cookies"` (option `cookies.clearSiteData`, default on).
 * Express on memory and Redis, and Fastify.
 */
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { MemorySessionRepository } from '../../lib/index.js';
import { AppModule } from '../../sample/app.module.js';
import { E2eHarness, STORES } from '../e2e/helpers/store-matrix.js';
import { jwtPayload } from '../e2e/helpers/tokens.js';
import { ALICE, CookieClient, loginHeader } from '../utils/http.js';
import { TEST_SECRET } from '../utils/sample-app.js';

const harness = new E2eHarness();
beforeAll(() => harness.start());
afterAll(() => harness.stop());

type Answer = { status: number; headers: Record<string, string | string[] | undefined> };

function expectModuleHeaders(res: Answer): void {
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.headers['pragma']).toBe('no-cache');
  expect(res.headers['x-content-type-options']).toBe('nosniff');
}

function expectTokenAnswer(res: Answer): void {
  expectModuleHeaders(res);
  expect(res.headers['referrer-policy']).toBe('no-referrer');
}

const bearer = (token: string) => `Bearer ${token}`;
const BROKEN_JSON = '{"email":';

/** Paths that Express routes to the login/refresh routes, or that only differ by encoding or slashes. */
const VARIANTS = [
  '/AUTH/LOGIN',
  '/Auth/Refresh',
  '/auth/LOGIN/',
  '/%61uth/login',
  '//auth//login',
  '/auth/./refresh',
  '/AUTH',
];

function sharedCases(ctx: () => { url: string }) {
  it.each(VARIANTS)('%s with broken JSON → 400, no-store, nosniff', async (path) => {
    const res = await request(ctx().url).post(path).set('Content-Type', 'application/json').send(BROKEN_JSON);
    expect(res.status).toBe(400);
    expectModuleHeaders(res);
  });

  it('login and refresh answers (both transports): no-store, nosniff, Referrer-Policy: no-referrer', async () => {
    const { url } = ctx();
    const cookieLogin = await request(url).post('/auth/login').send(ALICE);
    expect(cookieLogin.status).toBe(200);
    expectTokenAnswer(cookieLogin);
    const alice = new CookieClient(url);
    alice.absorb(cookieLogin);
    const cookieRefresh = await alice.post('/auth/refresh');
    expect(cookieRefresh.status).toBe(200);
    expectTokenAnswer(cookieRefresh);

    const headerLogin = await request(url).post('/auth/login').set('X-Auth-Transport', 'header').send(ALICE);
    expect(headerLogin.status).toBe(200);
    expectTokenAnswer(headerLogin);
    const headerRefresh = await request(url)
      .post('/auth/refresh')
      .send({ refreshToken: headerLogin.body.refreshToken });
    expect(headerRefresh.status).toBe(200);
    expectTokenAnswer(headerRefresh);
  });

  it('login and refresh refusals (no token in them): no-store, nosniff', async () => {
    const { url } = ctx();
    for (const res of [
      await request(url)
        .post('/auth/login')
        .send({ ...ALICE, password: 'wrong-password-000' }),
      await request(url).post('/auth/login').send({ email: 1 }),
      await request(url).post('/auth/refresh'),
      await request(url).post('/auth/refresh').send({ refreshToken: 'x.y.z' }),
    ]) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      expectModuleHeaders(res);
    }
  });

  it('the other module routes and their errors: no-store, nosniff', async () => {
    const { url } = ctx();
    const { accessToken } = await loginHeader(url);
    const auth = bearer(accessToken);
    for (const res of [
      await request(url).get('/auth/sessions').set('Authorization', auth),
      await request(url).get('/auth/csrf').set('Authorization', auth),
      await request(url).get('/auth/sessions'),
      await request(url).delete('/auth/sessions/AAAAAAAAAAAAAAAAAAAAAA').set('Authorization', auth),
      await request(url).get('/auth/no-such-route'),
      await request(url).post('/auth/logout').set('Authorization', auth),
    ]) {
      expectModuleHeaders(res);
    }
  });

  it('cookie logout, logout-all and revoking the own session carry Clear-Site-Data: "cookies"', async () => {
    const { url } = ctx();
    const login = async () => {
      const c = new CookieClient(url);
      expect((await c.login()).status).toBe(200);
      return c;
    };
    const logout = await (await login()).post('/auth/logout');
    expect(logout.status).toBe(204);
    expect(logout.headers['clear-site-data']).toBe('"cookies"');
    expectModuleHeaders(logout);
    const all = await (await login()).post('/auth/logout-all');
    expect(all.status).toBe(204);
    expect(all.headers['clear-site-data']).toBe('"cookies"');
    const c = await login();
    const own = String(jwtPayload(c.access).sid);
    const other = await login();
    const otherSid = String(jwtPayload(other.access).sid);
    const revokeOther = await c.delete(`/auth/sessions/${otherSid}`);
    expect(revokeOther.status).toBe(204);
    expect(revokeOther.headers['clear-site-data']).toBeUndefined();
    const revokeOwn = await c.delete(`/auth/sessions/${own}`);
    expect(revokeOwn.status).toBe(204);
    expect(revokeOwn.headers['clear-site-data']).toBe('"cookies"');
  });

  it('a bearer logout has no Clear-Site-Data (its client holds no cookies of ours)', async () => {
    const { url } = ctx();
    const { accessToken } = await loginHeader(url);
    const res = await request(url).post('/auth/logout').set('Authorization', bearer(accessToken));
    expect(res.status).toBe(204);
    expect(res.headers['clear-site-data']).toBeUndefined();
  });

  it('app routes outside the prefix are left alone (GET /health)', async () => {
    const res = await request(ctx().url).get('/health');
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBeUndefined();
  });
}

describe.each(STORES)('module headers on Express, $name store', (store) => {
  let url: string;
  beforeAll(async () => {
    url = (await harness.sample(store)).url;
  });
  sharedCases(() => ({ url }));

  it('cookies.clearSiteData: false turns Clear-Site-Data off', async () => {
    const off = await harness.sample(store, { cookies: { clearSiteData: false } });
    const c = new CookieClient(off.url);
    expect((await c.login()).status).toBe(200);
    const res = await c.post('/auth/logout');
    expect(res.status).toBe(204);
    expect(res.headers['clear-site-data']).toBeUndefined();
    expect(res.headers['set-cookie']).toBeDefined();
  });
});

describe('module headers on Fastify (memory store)', () => {
  let app: NestFastifyApplication;
  let url: string;
  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [AppModule.register({ secret: TEST_SECRET, store: new MemorySessionRepository() })],
    }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    await app.listen(0, '127.0.0.1');
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });
  afterAll(() => app?.close());

  it.each(VARIANTS)('%s with broken JSON → 4xx, no-store, nosniff', async (path) => {
    const res = await request(url).post(path).set('Content-Type', 'application/json').send(BROKEN_JSON);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expectModuleHeaders(res);
  });

  it('login, refresh and logout headers as on Express', async () => {
    const login = await request(url).post('/auth/login').send(ALICE);
    expect(login.status).toBe(200);
    expectTokenAnswer(login);
    const alice = new CookieClient(url);
    alice.absorb(login);
    const refresh = await alice.post('/auth/refresh');
    expect(refresh.status).toBe(200);
    expectTokenAnswer(refresh);
    alice.absorb(refresh);
    const logout = await alice.post('/auth/logout');
    expect(logout.status).toBe(204);
    expect(logout.headers['clear-site-data']).toBe('"cookies"');
    expectModuleHeaders(logout);
  });

  it('form-encoded login → 415, no Set-Cookie', async () => {
    const res = await request(url).post('/auth/login').type('form').send(ALICE);
    expect(res.status).toBe(415);
    expect(res.headers['set-cookie']).toBeUndefined();
  });
});
