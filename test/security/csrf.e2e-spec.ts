/**
 * CSRF protection over HTTP (SECURITY.md S-38..S-43): the signed double-submit token, the
 * Origin / Sec-Fetch-Site check, the exact exemptions, login CSRF, `@SkipCsrf()`, the options,
 * and CORS. The full matrix runs on the memory store; the main cases run again on a real Redis.
 */
import request from 'supertest';
import type { Test as SuperRequest } from 'supertest';
import { ADMIN, ALICE, BOB, CookieClient, loginHeader } from '../utils/http.js';
import { type RedisProcess, startRedis } from '../utils/redis.js';
import { testAdapter } from '../utils/http-adapter.js';
import { type RunningSample, startSample } from '../utils/sample-app.js';
import { parseSetCookies } from '../utils/set-cookie.js';
import { redisTestStore, type TestStore } from '../utils/stores.js';
import { startSampleWithFixture } from './fixtures/csrf-fixture.js';

const ALLOWED = 'https://app.allowed.example';
const EVIL = 'https://evil.example';

/** Adds optional CSRF header and browser headers to a cookie request. */
function withHeaders(req: SuperRequest, csrf: string | undefined, headers: Record<string, string>): SuperRequest {
  if (csrf !== undefined) req.set('X-CSRF-Token', csrf);
  for (const [k, v] of Object.entries(headers)) req.set(k, v);
  return req;
}

const postNote = (client: CookieClient, csrf: string | undefined, headers: Record<string, string> = {}) =>
  withHeaders(request(client.url).post('/notes').set('Cookie', client.cookieHeader()), csrf, headers).send({
    text: 'csrf test',
  });

const refreshWith = (client: CookieClient, csrf: string | undefined, headers: Record<string, string> = {}) =>
  withHeaders(request(client.url).post('/auth/refresh').set('Cookie', client.cookieHeader(true)), csrf, headers);

async function loggedIn(url: string, user = ALICE): Promise<CookieClient> {
  const c = new CookieClient(url);
  expect((await c.login(user)).status).toBe(200);
  expect(c.access && c.refresh && c.csrf).toBeTruthy();
  return c;
}

/** Cases that run on every store: token required, bound to the session, cross-site refused. */
function coreCases(ctx: () => { url: string }) {
  it('POST /notes with the session cookie and no token → 403 with a clear message (S-38)', async () => {
    const alice = await loggedIn(ctx().url);
    const res = await postNote(alice, undefined);
    expect(res.status).toBe(403);
    expect(res.body.message).toMatch(/X-CSRF-Token|csrf/i);
  });

  it('a valid token from another session (other user, or the same user elsewhere) → 403 (S-39)', async () => {
    const alice = await loggedIn(ctx().url);
    const bob = await loggedIn(ctx().url, BOB);
    const aliceElsewhere = await loggedIn(ctx().url);
    expect((await postNote(alice, bob.csrf)).status).toBe(403);
    expect((await postNote(alice, aliceElsewhere.csrf)).status).toBe(403);
    // Each token is valid in its own session.
    expect((await postNote(bob, bob.csrf)).status).toBe(201);
    expect((await postNote(aliceElsewhere, aliceElsewhere.csrf)).status).toBe(201);
  });

  it("the session's own token → 201", async () => {
    const alice = await loggedIn(ctx().url);
    const res = await postNote(alice, alice.csrf);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.any(Number), text: 'csrf test' });
  });

  it('Sec-Fetch-Site: cross-site with a valid token → 403 (S-40)', async () => {
    const alice = await loggedIn(ctx().url);
    expect((await postNote(alice, alice.csrf, { 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403);
  });

  it('cookie refresh needs the CSRF header; a refused refresh does not rotate the cookie', async () => {
    const alice = await loggedIn(ctx().url);
    const before = alice.refresh;
    expect((await refreshWith(alice, undefined)).status).toBe(403);
    const ok = await refreshWith(alice, alice.csrf);
    expect(ok.status).toBe(200);
    alice.absorb(ok);
    expect(alice.refresh).not.toBe(before);
  });
}

describe('CSRF over HTTP (memory store)', () => {
  let sample: RunningSample;
  let url: string;
  let ownOrigin: string;
  beforeAll(async () => {
    sample = await startSampleWithFixture({ csrf: { allowedOrigins: [ALLOWED] } });
    url = sample.url;
    ownOrigin = `http://${new URL(url).host}`; // supertest's Host header is host:port of the URL
  });
  afterAll(() => sample?.close());

  describe('core cases', () => coreCases(() => ({ url })));

  describe('token format', () => {
    it.each([
      [
        'tampered (one MAC character changed)',
        (t: string) => t.slice(0, -5) + (t.at(-5) === 'A' ? 'B' : 'A') + t.slice(-4),
      ],
      ['nonce swapped for another', (t: string) => 'AAAAAAAAAAAAAAAAAAAAAA' + t.slice(t.indexOf('.'))],
      ['empty', () => ''],
      ['the access token itself', (_t: string, access: string) => access],
      ['a JSON array', () => '["a","b"]'],
      ['2 KB of junk', () => 'x'.repeat(2048)],
    ])('%s → 403', async (_name, mutate) => {
      const alice = await loggedIn(url);
      expect((await postNote(alice, mutate(alice.csrf, alice.access))).status).toBe(403);
    });

    it('the token in the body or the query string instead of the header → 403', async () => {
      const alice = await loggedIn(url);
      const inBody = await request(url)
        .post('/notes')
        .set('Cookie', alice.cookieHeader())
        .send({ text: 'x', csrfToken: alice.csrf, _csrf: alice.csrf });
      expect(inBody.status).toBe(403);
      const inQuery = await request(url)
        .post(`/notes?csrfToken=${encodeURIComponent(alice.csrf)}&_csrf=${encodeURIComponent(alice.csrf)}`)
        .set('Cookie', alice.cookieHeader())
        .send({ text: 'x' });
      expect(inQuery.status).toBe(403);
    });

    it('GET /auth/csrf hands out a token bound to the same session (page reload)', async () => {
      const alice = await loggedIn(url);
      const res = await alice.get('/auth/csrf').expect(200);
      expect(res.body.csrfToken).not.toBe(alice.csrf);
      expect((await postNote(alice, res.body.csrfToken)).status).toBe(201);
      const bob = await loggedIn(url, BOB);
      expect((await postNote(bob, res.body.csrfToken)).status).toBe(403);
    });
  });

  describe('Origin and Sec-Fetch-Site (S-40)', () => {
    it.each<[string, number, () => Record<string, string>]>([
      ['Origin: https://evil.example', 403, () => ({ Origin: EVIL })],
      ['Origin: null (sandboxed frame, data: URL)', 403, () => ({ Origin: 'null' })],
      ['Sec-Fetch-Site: same-site without Origin', 403, () => ({ 'Sec-Fetch-Site': 'same-site' })],
      [
        'Origin of another port on the same host',
        403,
        () => ({ Origin: `http://127.0.0.1:1`, 'Sec-Fetch-Site': 'same-site' }),
      ],
      ['own origin with a trailing path', 403, () => ({ Origin: `${ownOrigin}/` })],
      [
        'Sec-Fetch-Site: cross-site with the own origin',
        403,
        () => ({ Origin: ownOrigin, 'Sec-Fetch-Site': 'cross-site' }),
      ],
      [
        "a listed origin, but Sec-Fetch-Site: cross-site (the issue's rule: cross-site is always refused)",
        403,
        () => ({ Origin: ALLOWED, 'Sec-Fetch-Site': 'cross-site' }),
      ],
      ['own origin (Origin: http://<Host>)', 201, () => ({ Origin: ownOrigin })],
      [
        'own origin with Sec-Fetch-Site: same-origin',
        201,
        () => ({ Origin: ownOrigin, 'Sec-Fetch-Site': 'same-origin' }),
      ],
      ['an origin listed in csrf.allowedOrigins', 201, () => ({ Origin: ALLOWED })],
      [
        'a listed origin with Sec-Fetch-Site: same-site',
        201,
        () => ({ Origin: ALLOWED, 'Sec-Fetch-Site': 'same-site' }),
      ],
      ['neither header (a non-browser client)', 201, () => ({})],
      ['Sec-Fetch-Site: none (typed into the address bar) without Origin', 201, () => ({ 'Sec-Fetch-Site': 'none' })],
    ])('%s with a valid token → %d', async (_name, expected, headers) => {
      const alice = await loggedIn(url);
      const res = await postNote(alice, alice.csrf, headers());
      expect(res.status).toBe(expected);
      if (expected === 403) expect(res.body.message).toMatch(/cross-origin|csrf/i);
    });

    it('neither header and no token → 403 (a non-browser client still needs the token)', async () => {
      const alice = await loggedIn(url);
      expect((await postNote(alice, undefined)).status).toBe(403);
    });

    it('cookie refresh checks the origin too', async () => {
      const alice = await loggedIn(url);
      expect((await refreshWith(alice, alice.csrf, { Origin: EVIL })).status).toBe(403);
      expect((await refreshWith(alice, alice.csrf, { 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403);
      expect((await refreshWith(alice, alice.csrf, { Origin: 'null' })).status).toBe(403);
      const ok = await refreshWith(alice, alice.csrf, { Origin: ownOrigin, 'Sec-Fetch-Site': 'same-origin' });
      expect(ok.status).toBe(200);
    });

    it('cookie refresh with a token of another session → 403', async () => {
      const alice = await loggedIn(url);
      const bob = await loggedIn(url, BOB);
      expect((await refreshWith(alice, bob.csrf)).status).toBe(403);
    });
  });

  describe('exemptions are exact (S-41)', () => {
    it('safe methods: GET with the cookie from a cross-site origin is not a CSRF failure', async () => {
      const alice = await loggedIn(url);
      for (const path of ['/me', '/auth/sessions', '/auth/csrf']) {
        const res = await alice.get(path).set('Origin', EVIL).set('Sec-Fetch-Site', 'cross-site');
        expect([path, res.status]).toEqual([path, 200]);
      }
    });

    it('a bearer request (no cookie) needs no token, whatever Origin says', async () => {
      const { accessToken } = await loginHeader(url);
      const res = await request(url)
        .post('/notes')
        .set('Authorization', `Bearer ${accessToken}`)
        .set('Origin', EVIL)
        .set('Sec-Fetch-Site', 'cross-site')
        .send({ text: 'from an API client' });
      expect(res.status).toBe(201);
    });

    it('the access cookie plus an Authorization: Basic header still needs the token', async () => {
      const alice = await loggedIn(url);
      const basic = `Basic ${Buffer.from('alice:alice-password-123').toString('base64')}`;
      expect((await postNote(alice, undefined, { Authorization: basic })).status).toBe(403);
      expect((await postNote(alice, alice.csrf, { Authorization: basic })).status).toBe(201);
    });

    it('the access cookie plus an invalid bearer header is refused (401), never treated as exempt', async () => {
      const alice = await loggedIn(url);
      const res = await postNote(alice, undefined, { Authorization: 'Bearer not.a.token' });
      expect(res.status).toBe(401);
    });

    it.each([
      ['PUT', (u: string) => request(u).put('/fixture/item')],
      ['PATCH', (u: string) => request(u).patch('/fixture/item')],
      ['DELETE', (u: string) => request(u).delete('/fixture/item')],
    ])('%s is unsafe too: 403 without the token, 200 with it', async (_m, make) => {
      const alice = await loggedIn(url);
      expect((await make(url).set('Cookie', alice.cookieHeader()).send({ a: 1 })).status).toBe(403);
      expect(
        (await make(url).set('Cookie', alice.cookieHeader()).set('X-CSRF-Token', alice.csrf).send({ a: 1 })).status,
      ).toBe(200);
    });

    it.each(['MOVE', 'PROPPATCH', 'LOCK', 'MKCOL'])(
      '%s on an @All() route is unsafe: 403 without the token, 200 with it',
      async (method) => {
        const alice = await loggedIn(url);
        const call = () =>
          request(url)[method.toLowerCase() as 'move']('/fixture/any').set('Cookie', alice.cookieHeader());
        expect((await call()).status).toBe(403);
        const ok = await call().set('X-CSRF-Token', alice.csrf);
        expect([ok.status, ok.body]).toEqual([200, { method }]);
      },
    );

    it('GET on the same @All() route needs no token', async () => {
      const alice = await loggedIn(url);
      const res = await request(url).get('/fixture/any').set('Cookie', alice.cookieHeader());
      expect([res.status, res.body]).toEqual([200, { method: 'GET' }]);
    });

    it("the module's own routes: logout, logout-all and DELETE /auth/sessions/:id need the token", async () => {
      const alice = await loggedIn(url);
      const other = await loggedIn(url);
      const sessions = (await other.get('/auth/sessions').expect(200)).body as Array<{ id: string; current: boolean }>;
      const otherId = sessions.find((s) => s.current)!.id;
      expect((await alice.post('/auth/logout', undefined, false)).status).toBe(403);
      expect((await alice.post('/auth/logout-all', undefined, false)).status).toBe(403);
      expect((await alice.delete(`/auth/sessions/${otherId}`, false)).status).toBe(403);
      // Nothing was ended by the refused requests.
      await alice.get('/me').expect(200);
      await other.get('/me').expect(200);
      await alice.delete(`/auth/sessions/${otherId}`).expect(204);
      await other.get('/me').expect(401);
      await alice.post('/auth/logout').expect(204);
      await alice.get('/me').expect(401);
    });

    it('@SkipCsrf() opens one route (no token, any origin) and only that one', async () => {
      const alice = await loggedIn(url);
      const skip = await request(url).post('/fixture/skip').set('Cookie', alice.cookieHeader()).set('Origin', EVIL);
      expect(skip.status).toBe(201);
      expect(skip.body).toEqual({ ok: true, user: 'u-alice' });
      // Still an authenticated route.
      expect((await request(url).post('/fixture/skip')).status).toBe(401);
      expect((await postNote(alice, undefined)).status).toBe(403);
    });
  });

  describe('login CSRF (S-42)', () => {
    it.each<[string, number, () => Record<string, string>]>([
      ['Sec-Fetch-Site: cross-site', 403, () => ({ 'Sec-Fetch-Site': 'cross-site' })],
      ['a foreign Origin', 403, () => ({ Origin: EVIL })],
      ['Origin: null', 403, () => ({ Origin: 'null' })],
      ['the own origin', 200, () => ({ Origin: ownOrigin, 'Sec-Fetch-Site': 'same-origin' })],
      ['no browser headers', 200, () => ({})],
    ])('cookie-transport login with %s → %d', async (_name, expected, headers) => {
      const res = await request(url).post('/auth/login').set(headers()).send(ALICE);
      expect(res.status).toBe(expected);
      if (expected === 403) expect(res.headers['set-cookie']).toBeUndefined();
      else expect(parseSetCookies(res)).toHaveLength(2);
    });

    it("a cross-site login of the attacker's account is refused even with valid credentials of another user", async () => {
      const res = await request(url)
        .post('/auth/login')
        .set('Origin', EVIL)
        .set('Sec-Fetch-Site', 'cross-site')
        .send(ADMIN);
      expect(res.status).toBe(403);
      expect(res.body).not.toHaveProperty('csrfToken');
    });
  });

  describe('CORS never grants credentialed access to other origins (S-43)', () => {
    it.each([
      [
        'OPTIONS /notes preflight',
        (u: string) =>
          request(u)
            .options('/notes')
            .set('Access-Control-Request-Method', 'POST')
            .set('Access-Control-Request-Headers', 'content-type,x-csrf-token'),
      ],
      [
        'OPTIONS /auth/refresh preflight',
        (u: string) => request(u).options('/auth/refresh').set('Access-Control-Request-Method', 'POST'),
      ],
      ['GET /me', (u: string) => request(u).get('/me')],
      ['GET /auth/csrf', (u: string) => request(u).get('/auth/csrf')],
      ['POST /auth/login', (u: string) => request(u).post('/auth/login').send(ALICE)],
    ])('%s from https://evil.example: no Access-Control-Allow-Origin for it', async (_name, make) => {
      const alice = await loggedIn(url);
      const res = await make(url).set('Cookie', alice.cookieHeader()).set('Origin', EVIL);
      expect(res.status).toBeLessThan(500);
      const acao = res.headers['access-control-allow-origin'];
      expect(acao === undefined || (acao !== EVIL && acao !== '*' && acao !== 'null')).toBe(true);
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    });
  });
});

describe('CSRF options', () => {
  const started: RunningSample[] = [];
  afterAll(() => Promise.all(started.map((s) => s.close())));
  const start = async (o: Parameters<typeof startSample>[0]) => {
    const s = await startSample(o);
    started.push(s);
    return s;
  };

  it('csrf.enabled: false drops the token check but keeps the origin check', async () => {
    const { url } = await start({ csrf: { enabled: false } });
    const alice = await loggedIn(url);
    expect((await postNote(alice, undefined)).status).toBe(201);
    expect((await postNote(alice, undefined, { Origin: EVIL })).status).toBe(403);
    expect((await postNote(alice, undefined, { 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403);
    expect((await refreshWith(alice, undefined)).status).toBe(200);
  });

  it('csrf.headerName renames the header; the default name is then ignored', async () => {
    const { url } = await start({ csrf: { headerName: 'X-XSRF-TOKEN' } });
    const alice = await loggedIn(url);
    expect((await postNote(alice, alice.csrf)).status).toBe(403);
    const res = await request(url)
      .post('/notes')
      .set('Cookie', alice.cookieHeader())
      .set('X-XSRF-TOKEN', alice.csrf)
      .send({ text: 'x' });
    expect(res.status).toBe(201);
  });
});

describe('CSRF on a real Redis', () => {
  let redis: RedisProcess;
  let store: TestStore;
  let sample: RunningSample;
  beforeAll(async () => {
    redis = await startRedis();
    store = await redisTestStore(redis.url);
    sample = await startSample({ store: store.store });
  });
  afterAll(async () => {
    await sample?.close();
    await store?.close();
    await redis?.stop();
  });

  it('serves from Redis', async () => {
    await request(sample.url)
      .get('/health')
      .expect(200, { status: 'ok', store: 'redis', adapter: testAdapter(), redisClient: 'redis-yet' });
  });

  describe('core cases', () => coreCases(() => ({ url: sample.url })));
});
