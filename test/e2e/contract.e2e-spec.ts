/**
 * The sample app's HTTP contract (DESIGN.md route table) over real HTTP, on the memory store and
 * on a real redis-server.
 */
import request from 'supertest';
import type { Response } from 'supertest';
import { ADMIN, ALICE, BOB, CookieClient, loginHeader } from '../utils/http.js';
import { testAdapter } from '../utils/http-adapter.js';
import type { RunningSample } from '../utils/sample-app.js';
import { parseSetCookies, setCookie } from '../utils/set-cookie.js';
import { E2eHarness, STORES } from './helpers/store-matrix.js';
import { expIso, jwtPayload } from './helpers/tokens.js';

const ACCESS_TTL = 900;
const ABSOLUTE_TIMEOUT = 604800;

const harness = new E2eHarness();
beforeAll(() => harness.start());
afterAll(() => harness.stop());

const bearer = (token: string) => `Bearer ${token}`;

describe.each(STORES)('HTTP contract on the $name store', (store) => {
  let sample: RunningSample;
  let url: string;
  beforeAll(async () => {
    sample = await harness.sample(store, { accessToken: { ttl: ACCESS_TTL }, absoluteTimeout: ABSOLUTE_TIMEOUT });
    url = sample.url;
  });

  describe('POST /auth/login', () => {
    it('cookie transport: 200 {user, csrfToken, accessTokenExpiresAt}, tokens only in cookies', async () => {
      const res = await request(url).post('/auth/login').send(ALICE);
      expect(res.status).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(['accessTokenExpiresAt', 'csrfToken', 'user']);
      expect(res.body.user).toEqual({ id: 'u-alice', email: ALICE.email, role: 'user' });
      expect(typeof res.body.csrfToken).toBe('string');
      expect(res.body.csrfToken.length).toBeGreaterThan(0);

      const access = setCookie(res, '__Host-session').value;
      const refresh = setCookie(res, '__Secure-refresh').value;
      expect(jwtPayload(access).typ).toBe('access');
      expect(jwtPayload(refresh).typ).toBe('refresh');
      expect(res.body.accessTokenExpiresAt).toBe(expIso(access));
      // Neither token (nor any JWT) reaches JavaScript through the body (S-37).
      const text = JSON.stringify(res.body);
      expect(text).not.toContain(access);
      expect(text).not.toContain(refresh);
      expect(text).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/);
    });

    it('header transport: 200 {user, accessToken, refreshToken, accessTokenExpiresAt} and no cookies', async () => {
      const res = await request(url).post('/auth/login').set('X-Auth-Transport', 'header').send(BOB);
      expect(res.status).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(['accessToken', 'accessTokenExpiresAt', 'refreshToken', 'user']);
      expect(res.body.user).toEqual({ id: 'u-bob', email: BOB.email, role: 'user' });
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(jwtPayload(res.body.accessToken).typ).toBe('access');
      expect(jwtPayload(res.body.refreshToken).typ).toBe('refresh');
      expect(res.body.accessTokenExpiresAt).toBe(expIso(res.body.accessToken));
      expect(Date.parse(res.body.accessTokenExpiresAt)).toBeGreaterThan(Date.now());
    });

    it('sets the access cookie as __Host-session: Path=/, HttpOnly, Secure, SameSite=Lax, no Domain, Max-Age ≤ access TTL', async () => {
      const res = await request(url).post('/auth/login').send(ALICE).expect(200);
      const c = setCookie(res, '__Host-session');
      expect(c.attrs.path).toBe('/');
      expect(c.attrs.httponly).toBe(true);
      expect(c.attrs.secure).toBe(true);
      expect(c.attrs.samesite).toBe('Lax');
      expect(c.attrs).not.toHaveProperty('domain');
      const maxAge = Number(c.attrs['max-age']);
      expect(maxAge).toBeGreaterThan(0);
      expect(maxAge).toBeLessThanOrEqual(ACCESS_TTL);
      // Never outlives the token it carries (S-34).
      expect(Date.now() + maxAge * 1000).toBeLessThanOrEqual(Number(jwtPayload(c.value).exp) * 1000 + 1000);
    });

    it('sets the refresh cookie as __Secure-refresh: Path=/auth/refresh, HttpOnly, Secure, SameSite=Strict, Max-Age ≤ absolute timeout', async () => {
      const res = await request(url).post('/auth/login').send(ALICE).expect(200);
      const c = setCookie(res, '__Secure-refresh');
      expect(c.attrs.path).toBe('/auth/refresh');
      expect(c.attrs.httponly).toBe(true);
      expect(c.attrs.secure).toBe(true);
      expect(c.attrs.samesite).toBe('Strict');
      expect(c.attrs).not.toHaveProperty('domain');
      const maxAge = Number(c.attrs['max-age']);
      expect(maxAge).toBeGreaterThan(ABSOLUTE_TIMEOUT - 60);
      expect(maxAge).toBeLessThanOrEqual(ABSOLUTE_TIMEOUT);
    });

    it('answers 401 with the same body for an unknown user and a wrong password, and sets no cookie', async () => {
      const unknown = await request(url)
        .post('/auth/login')
        .send({ email: 'nobody@example.com', password: ALICE.password });
      const wrong = await request(url).post('/auth/login').send({ email: ALICE.email, password: 'not-alice-password' });
      for (const res of [unknown, wrong]) {
        expect(res.status).toBe(401);
        expect(res.headers['set-cookie']).toBeUndefined();
      }
      expect(wrong.body).toEqual(unknown.body);
      expect(wrong.headers['content-type']).toBe(unknown.headers['content-type']);
      expect(JSON.stringify(unknown.body)).not.toContain('nobody');
    });

    it.each<[string, (r: request.Test) => request.Test]>([
      ['an empty body', (r) => r],
      ['a missing password', (r) => r.send({ email: ALICE.email })],
      ['a numeric email', (r) => r.send({ email: 42, password: ALICE.password })],
      ['an object as password', (r) => r.send({ email: ALICE.email, password: { $ne: '' } })],
      ['a JSON array', (r) => r.send([ALICE.email, ALICE.password])],
      ['a JSON string', (r) => r.set('Content-Type', 'application/json').send('"alice"')],
      ['JSON null', (r) => r.set('Content-Type', 'application/json').send('null')],
      ['broken JSON', (r) => r.set('Content-Type', 'application/json').send('{"email": "alice@example.com", ')],
      ['an over-long email', (r) => r.send({ email: `${'a'.repeat(300)}@example.com`, password: 'x' })],
    ])('answers 400 for %s', async (_name, build) => {
      const res = await build(request(url).post('/auth/login'));
      expect(res.status).toBe(400);
      expect(res.headers['set-cookie']).toBeUndefined();
    });
  });

  describe('authenticated routes', () => {
    it('GET /me answers 200 {id, email, role} for header and cookie transport', async () => {
      const { accessToken } = await loginHeader(url, ALICE);
      const viaHeader = await request(url).get('/me').set('Authorization', bearer(accessToken));
      expect(viaHeader.status).toBe(200);
      expect(viaHeader.body).toEqual({ id: 'u-alice', email: ALICE.email, role: 'user' });

      const client = new CookieClient(url);
      await client.login(ADMIN);
      const viaCookie = await client.get('/me');
      expect(viaCookie.status).toBe(200);
      expect(viaCookie.body).toEqual({ id: 'u-admin', email: ADMIN.email, role: 'admin' });
    });

    it('GET /admin/stats answers 200 for the admin and 403 for a user', async () => {
      const admin = await loginHeader(url, ADMIN);
      const user = await loginHeader(url, ALICE);
      const ok = await request(url).get('/admin/stats').set('Authorization', bearer(admin.accessToken));
      expect(ok.status).toBe(200);
      expect(typeof ok.body.notes).toBe('number');
      const denied = await request(url).get('/admin/stats').set('Authorization', bearer(user.accessToken));
      expect(denied.status).toBe(403);
      const cookieUser = new CookieClient(url);
      await cookieUser.login(BOB);
      expect((await cookieUser.get('/admin/stats')).status).toBe(403);
    });

    it('POST /notes answers 201 {id, text} (bearer needs no CSRF token; cookies do)', async () => {
      const { accessToken } = await loginHeader(url, ALICE);
      const viaHeader = await request(url)
        .post('/notes')
        .set('Authorization', bearer(accessToken))
        .send({ text: 'from a bearer' });
      expect(viaHeader.status).toBe(201);
      expect(Object.keys(viaHeader.body).sort()).toEqual(['id', 'text']);
      expect(viaHeader.body.text).toBe('from a bearer');

      const client = new CookieClient(url);
      await client.login(ALICE);
      const viaCookie = await client.post('/notes', { text: 'from a cookie' });
      expect(viaCookie.status).toBe(201);
      expect(viaCookie.body).toEqual({ id: expect.anything(), text: 'from a cookie' });
      expect(viaCookie.body.id).not.toEqual(viaHeader.body.id);
      expect((await client.post('/notes', { text: 'no token' }, false)).status).toBe(403);
    });

    it('GET /health answers 200 {status: "ok", store}', async () => {
      const res = await request(url).get('/health');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        status: 'ok',
        store: store.name,
        adapter: testAdapter(),
        ...(store.name === 'memory' ? {} : { redisClient: 'redis-yet' }),
      });
    });
  });

  describe('POST /auth/refresh answers', () => {
    it('header transport: 200 {accessToken, refreshToken, accessTokenExpiresAt} and no cookies', async () => {
      const login = await loginHeader(url, ALICE);
      const res = await request(url).post('/auth/refresh').send({ refreshToken: login.refreshToken });
      expect(res.status).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(['accessToken', 'accessTokenExpiresAt', 'refreshToken']);
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(res.body.accessTokenExpiresAt).toBe(expIso(res.body.accessToken));
      expect(res.headers['cache-control']).toBe('no-store');
    });

    it('cookie transport: 200 {csrfToken, accessTokenExpiresAt} with new access and refresh cookies', async () => {
      const client = new CookieClient(url);
      await client.login(ALICE);
      const before = { access: client.access, refresh: client.refresh };
      const res = await client.post('/auth/refresh');
      expect(res.status).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(['accessTokenExpiresAt', 'csrfToken']);
      const access = setCookie(res, '__Host-session').value;
      const refresh = setCookie(res, '__Secure-refresh');
      expect(access).not.toBe(before.access);
      expect(refresh.value).not.toBe(before.refresh);
      expect(refresh.attrs.path).toBe('/auth/refresh');
      expect(res.body.accessTokenExpiresAt).toBe(expIso(access));
      expect(JSON.stringify(res.body)).not.toContain(access);
    });
  });

  describe('WWW-Authenticate on 401 (RFC 6750)', () => {
    it('a request without credentials gets "Bearer" without an error code', async () => {
      const res = await request(url).get('/me');
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer\b/);
      expect(res.headers['www-authenticate']).not.toContain('error=');
    });

    it.each<[string, (t: { accessToken: string }) => string]>([
      ['garbage', () => 'not.a.jwt'],
      ['a token with its signature cut off', (t) => t.accessToken.slice(0, t.accessToken.lastIndexOf('.') + 1) + 'x'],
    ])('a bearer request with %s gets error="invalid_token"', async (_name, token) => {
      const login = await loginHeader(url, ALICE);
      const res = await request(url)
        .get('/me')
        .set('Authorization', bearer(token(login)));
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer\b.*error="invalid_token"/);
    });

    it('a bearer request with a revoked session gets error="invalid_token"', async () => {
      const { accessToken } = await loginHeader(url, ALICE);
      await request(url).post('/auth/logout').set('Authorization', bearer(accessToken)).expect(204);
      const res = await request(url).get('/me').set('Authorization', bearer(accessToken));
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer\b.*error="invalid_token"/);
    });

    it('a refresh with a bad body token gets error="invalid_token"', async () => {
      const res = await request(url).post('/auth/refresh').send({ refreshToken: 'not-a-token' });
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer\b.*error="invalid_token"/);
    });
  });

  describe('Cache-Control: no-store on every /auth/* answer', () => {
    type Case = [string, number, (url: string) => Promise<Response>];
    const cases: Case[] = [
      ['login, cookie transport', 200, (u) => request(u).post('/auth/login').send(ALICE)],
      [
        'login, header transport',
        200,
        (u) => request(u).post('/auth/login').set('X-Auth-Transport', 'header').send(ALICE),
      ],
      [
        'login, bad credentials',
        401,
        (u) =>
          request(u)
            .post('/auth/login')
            .send({ ...ALICE, password: 'wrong-password' }),
      ],
      ['login, malformed body', 400, (u) => request(u).post('/auth/login').send({ email: 1 })],
      [
        'login, broken JSON',
        400,
        (u) => request(u).post('/auth/login').set('Content-Type', 'application/json').send('{'),
      ],
      [
        'refresh, header transport',
        200,
        async (u) =>
          request(u)
            .post('/auth/refresh')
            .send({ refreshToken: (await loginHeader(u)).refreshToken }),
      ],
      [
        'refresh, cookie transport',
        200,
        async (u) => {
          const c = new CookieClient(u);
          await c.login();
          return c.post('/auth/refresh');
        },
      ],
      ['refresh without a token', 401, (u) => request(u).post('/auth/refresh')],
      ['refresh with a bad token', 401, (u) => request(u).post('/auth/refresh').send({ refreshToken: 'x.y.z' })],
      [
        'logout',
        204,
        async (u) =>
          request(u)
            .post('/auth/logout')
            .set('Authorization', bearer((await loginHeader(u)).accessToken)),
      ],
      ['logout without credentials', 401, (u) => request(u).post('/auth/logout')],
      [
        'logout-all',
        204,
        async (u) =>
          request(u)
            .post('/auth/logout-all')
            .set('Authorization', bearer((await loginHeader(u, BOB)).accessToken)),
      ],
      [
        'sessions',
        200,
        async (u) =>
          request(u)
            .get('/auth/sessions')
            .set('Authorization', bearer((await loginHeader(u)).accessToken)),
      ],
      ['sessions without credentials', 401, (u) => request(u).get('/auth/sessions')],
      [
        'revoke an unknown session',
        404,
        async (u) =>
          request(u)
            .delete('/auth/sessions/AAAAAAAAAAAAAAAAAAAAAA')
            .set('Authorization', bearer((await loginHeader(u)).accessToken)),
      ],
      [
        'revoke own session',
        204,
        async (u) => {
          const { accessToken } = await loginHeader(u);
          const sid = String(jwtPayload(accessToken).sid);
          return request(u).delete(`/auth/sessions/${sid}`).set('Authorization', bearer(accessToken));
        },
      ],
      [
        'csrf',
        200,
        async (u) =>
          request(u)
            .get('/auth/csrf')
            .set('Authorization', bearer((await loginHeader(u)).accessToken)),
      ],
      ['csrf with a bad token', 401, (u) => request(u).get('/auth/csrf').set('Authorization', 'Bearer a.b.c')],
    ];

    it.each(cases)('%s (%d)', async (_name, status, send) => {
      const res = await send(url);
      expect(res.status).toBe(status);
      expect(res.headers['cache-control']).toBe('no-store');
    });
  });

  it('login and refresh answer 200, never 201', async () => {
    const statuses = [
      (await request(url).post('/auth/login').send(ALICE)).status,
      (await request(url).post('/auth/login').set('X-Auth-Transport', 'header').send(ALICE)).status,
      (
        await request(url)
          .post('/auth/refresh')
          .send({ refreshToken: (await loginHeader(url)).refreshToken })
      ).status,
    ];
    expect(statuses).toEqual([200, 200, 200]);
  });

  it('cookie answers never carry a Domain attribute', async () => {
    const client = new CookieClient(url);
    const res = await client.login(ALICE);
    const all = [...parseSetCookies(res), ...parseSetCookies(await client.post('/auth/logout'))];
    expect(all.length).toBe(4);
    for (const c of all) expect(c.attrs).not.toHaveProperty('domain');
  });
});
