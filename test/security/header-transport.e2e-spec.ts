/**
 * Header transport over HTTP (SECURITY.md S-45, S-46, S-65): no cookies at all, tokens never read
 * from the URL, RFC 6750 answers, malformed Authorization headers.
 */
import request from 'supertest';
import { ALICE, CookieClient, loginHeader } from '../utils/http.js';
import { type RunningSample, startSample } from '../utils/sample-app.js';
import { rawRequest } from './support/raw-http.js';

const bearer = (t: string) => `Bearer ${t}`;

describe('header transport', () => {
  let sample: RunningSample;
  let url: string;
  beforeAll(async () => {
    sample = await startSample();
    url = sample.url;
  });
  afterAll(() => sample?.close());

  it('no Set-Cookie anywhere in a full header-transport session', async () => {
    const login = await request(url).post('/auth/login').set('X-Auth-Transport', 'header').send(ALICE).expect(200);
    let { accessToken, refreshToken } = login.body as { accessToken: string; refreshToken: string };
    const auth = () => bearer(accessToken);
    const answers = [login];
    answers.push(await request(url).get('/me').set('Authorization', auth()).expect(200));
    answers.push(await request(url).post('/notes').set('Authorization', auth()).send({ text: 'api' }).expect(201));
    answers.push(await request(url).get('/auth/sessions').set('Authorization', auth()).expect(200));
    answers.push(await request(url).get('/auth/csrf').set('Authorization', auth()).expect(200));
    const refreshed = await request(url).post('/auth/refresh').send({ refreshToken }).expect(200);
    answers.push(refreshed);
    ({ accessToken, refreshToken } = refreshed.body);
    expect(Object.keys(refreshed.body).sort()).toEqual(['accessToken', 'accessTokenExpiresAt', 'refreshToken']);
    answers.push(await request(url).post('/auth/logout').set('Authorization', auth()).expect(204));
    answers.push(await request(url).post('/auth/refresh').send({ refreshToken }).expect(401));
    answers.push(await request(url).get('/me').set('Authorization', auth()).expect(401));
    answers.forEach((res, i) => expect([i, res.headers['set-cookie']]).toEqual([i, undefined]));
  });

  it('logout-all and revoking the own session by bearer set no cookies either', async () => {
    const a = await loginHeader(url);
    const all = await request(url).post('/auth/logout-all').set('Authorization', bearer(a.accessToken)).expect(204);
    expect(all.headers['set-cookie']).toBeUndefined();
    const b = await loginHeader(url);
    const list = await request(url).get('/auth/sessions').set('Authorization', bearer(b.accessToken)).expect(200);
    const own = (list.body as Array<{ id: string; current: boolean }>).find((s) => s.current)!;
    const del = await request(url)
      .delete(`/auth/sessions/${own.id}`)
      .set('Authorization', bearer(b.accessToken))
      .expect(204);
    expect(del.headers['set-cookie']).toBeUndefined();
    await request(url).get('/me').set('Authorization', bearer(b.accessToken)).expect(401);
  });

  describe('tokens in the URL are ignored (S-45)', () => {
    it.each(['access_token', 'token', 'accessToken', 'jwt', 'authorization'])(
      'GET /me?%s=<valid token> alone → 401',
      async (param) => {
        const { accessToken } = await loginHeader(url);
        await request(url).get(`/me?${param}=${accessToken}`).expect(401);
        // The same token in the header works: the 401 is about where it was put.
        await request(url).get('/me').set('Authorization', bearer(accessToken)).expect(200);
      },
    );

    it('POST /notes?access_token=<valid token> → 401', async () => {
      const { accessToken } = await loginHeader(url);
      await request(url).post(`/notes?access_token=${accessToken}`).send({ text: 'x' }).expect(401);
    });

    it.each(['refresh_token', 'refreshToken', 'token'])(
      'POST /auth/refresh?%s=<valid refresh token> → 401',
      async (param) => {
        const { refreshToken } = await loginHeader(url);
        await request(url).post(`/auth/refresh?${param}=${refreshToken}`).expect(401);
        await request(url).post('/auth/refresh').send({ refreshToken }).expect(200);
      },
    );

    it('a token in a form-encoded body field is not an access credential', async () => {
      const { accessToken } = await loginHeader(url);
      await request(url).post('/notes').type('form').send({ access_token: accessToken, text: 'x' }).expect(401);
    });
  });

  describe('bearer failures follow RFC 6750 (S-46)', () => {
    it('an invalid bearer token → 401 with WWW-Authenticate: Bearer error="invalid_token"', async () => {
      const res = await request(url)
        .get('/me')
        .set('Authorization', bearer('eyJhbGciOiJIUzI1NiJ9.e30.c2ln'))
        .expect(401);
      expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    });

    it("a revoked session's token on every authenticated route → 401 invalid_token", async () => {
      const { accessToken } = await loginHeader(url);
      await request(url).post('/auth/logout').set('Authorization', bearer(accessToken)).expect(204);
      for (const req of [
        request(url).get('/me'),
        request(url).post('/notes').send({ text: 'x' }),
        request(url).get('/auth/sessions'),
        request(url).get('/auth/csrf'),
        request(url).post('/auth/logout'),
      ]) {
        const res = await req.set('Authorization', bearer(accessToken));
        expect(res.status).toBe(401);
        expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
      }
    });

    it('an invalid refresh token in the body → 401 invalid_token', async () => {
      const res = await request(url).post('/auth/refresh').send({ refreshToken: 'x.y.z' }).expect(401);
      expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    });

    it('no credentials at all → 401 with a bare Bearer challenge (no error code, RFC 6750 §3.1)', async () => {
      const res = await request(url).get('/me').expect(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
    });

    it('a 401 body says nothing about why', async () => {
      const res = await request(url).get('/me').set('Authorization', bearer('a.b.c')).expect(401);
      expect(res.body).toEqual({ statusCode: 401, message: 'Unauthorized' });
    });
  });

  describe('malformed Authorization headers → 401 or 400, never 5xx (S-65)', () => {
    const cases: Array<[string, (t: string) => string]> = [
      ['Bearer', () => 'Bearer'],
      ['Bearer + space', () => 'Bearer '],
      ['Bearer a b', () => 'Bearer a b'],
      ['Bearer <token> <token>', (t) => `Bearer ${t} ${t}`],
      ['Bearer <token>,<token>', (t) => `Bearer ${t},${t}`],
      ['Bearer "<token>"', (t) => `Bearer "${t}"`],
      ['Bearer <token> with a bad character', (t) => `Bearer ${t}!`],
      ['Basic x', () => 'Basic x'],
      [
        'Basic with valid base64',
        () => `Basic ${Buffer.from('alice@example.com:alice-password-123').toString('base64')}`,
      ],
      ['Token <token>', (t) => `Token ${t}`],
      ['Bearer with 8 KB', () => `Bearer ${'A'.repeat(8192)}`],
      ['Bearer with 15 KB of dots', () => `Bearer ${'a.'.repeat(7600)}a`],
      ['a bare token without scheme', (t) => t],
      ['Bearer followed by a tab and junk', () => 'Bearer\tjunk'],
      ['latin-1 bytes', () => 'Bearer \u00e9\u00e8\u00ff'],
    ];

    it.each(cases)('%s', async (_name, build) => {
      const { accessToken } = await loginHeader(url);
      const res = await request(url).get('/me').set('Authorization', build(accessToken));
      expect([400, 401]).toContain(res.status);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    });

    it('a malformed Bearer header is challenged with error="invalid_request" (RFC 6750 §3.1)', async () => {
      const { accessToken } = await loginHeader(url);
      for (const value of [`Bearer ${accessToken} ${accessToken}`, `Bearer "${accessToken}"`, 'Bearer']) {
        const res = await request(url).get('/me').set('Authorization', value);
        expect([res.status, res.headers['www-authenticate']]).toEqual([401, 'Bearer error="invalid_request"']);
      }
    });

    it('a bearer token without the needed role: 403 with error="insufficient_scope"; a cookie request gets no challenge', async () => {
      const { accessToken } = await loginHeader(url);
      const bearerRes = await request(url).get('/admin/stats').set('Authorization', `Bearer ${accessToken}`);
      expect([bearerRes.status, bearerRes.headers['www-authenticate']]).toEqual([
        403,
        'Bearer error="insufficient_scope"',
      ]);
      const alice = new CookieClient(url);
      await alice.login();
      const cookieRes = await alice.get('/admin/stats');
      expect(cookieRes.status).toBe(403);
      expect(cookieRes.headers['www-authenticate']).toBeUndefined();
    });

    it('a 20 KB Authorization header → 431, and the server keeps serving', async () => {
      const res = await rawRequest(url, 'GET', '/me', [['Authorization', `Bearer ${'A'.repeat(20_000)}`]]);
      expect(res.status).toBe(431);
      await request(url).get('/health').expect(200);
    });

    it('two Authorization header lines: Node keeps the first (a singleton field), so junk first → 401', async () => {
      const { accessToken } = await loginHeader(url);
      const res = await rawRequest(url, 'GET', '/me', [
        ['Authorization', 'Bearer junk'],
        ['Authorization', bearer(accessToken)],
      ]);
      expect(res.status).toBe(401);
    });
  });
});
