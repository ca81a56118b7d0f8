/**
 * `requireHttps` over HTTP (issue 4 §5; SECURITY.md S-49 "Transport Layer Security"): plain HTTP
 * is refused with a clear 403 on authenticated routes, the module's routes and login;
 * `X-Forwarded-Proto` counts only when Express trusts the proxy the request came from.
 */
import request from 'supertest';
import { MemorySessionRepository } from '../../lib/index.js';
import { ALICE, CookieClient, loginHeader } from '../utils/http.js';
import { type RunningSample, startSample } from '../utils/sample-app.js';

const started: RunningSample[] = [];
afterAll(() => Promise.all(started.map((s) => s.close())));

async function start(trustProxy?: string, store = new MemorySessionRepository()): Promise<string> {
  const s = await startSample({ requireHttps: true, store }, { trustProxy });
  started.push(s);
  return s.url;
}

const HTTPS = { 'X-Forwarded-Proto': 'https' };

describe('requireHttps without trust proxy', () => {
  let url: string;
  let plainUrl: string;
  let tokens: { accessToken: string; refreshToken: string };
  beforeAll(async () => {
    // A twin app without requireHttps on the same store and secret issues tokens that are valid
    // here too, so every refusal below is about the scheme alone.
    const store = new MemorySessionRepository();
    url = await start(undefined, store);
    const twin = await startSample({ store });
    started.push(twin);
    plainUrl = twin.url;
    tokens = await loginHeader(plainUrl);
  });

  it('the twin app accepts the same tokens over plain HTTP (control)', async () => {
    await request(plainUrl).get('/me').set('Authorization', `Bearer ${tokens.accessToken}`).expect(200);
  });

  it.each([
    ['GET /me', () => request(url).get('/me').set('Authorization', `Bearer ${tokens.accessToken}`)],
    [
      'POST /notes',
      () => request(url).post('/notes').set('Authorization', `Bearer ${tokens.accessToken}`).send({ text: 'x' }),
    ],
    [
      'GET /auth/sessions',
      () => request(url).get('/auth/sessions').set('Authorization', `Bearer ${tokens.accessToken}`),
    ],
    ['POST /auth/refresh (body)', () => request(url).post('/auth/refresh').send({ refreshToken: tokens.refreshToken })],
    [
      'POST /auth/refresh (cookie)',
      () => request(url).post('/auth/refresh').set('Cookie', `__Secure-refresh=${tokens.refreshToken}`),
    ],
    ['POST /auth/logout', () => request(url).post('/auth/logout').set('Authorization', `Bearer ${tokens.accessToken}`)],
    ['POST /auth/login (cookie transport)', () => request(url).post('/auth/login').send(ALICE)],
    [
      'POST /auth/login (header transport)',
      () => request(url).post('/auth/login').set('X-Auth-Transport', 'header').send(ALICE),
    ],
  ])('plain HTTP %s → 403 "HTTPS is required", no token issued', async (_name, make) => {
    const res = await make();
    expect(res.status).toBe(403);
    expect(res.body.message).toBe('HTTPS is required');
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(JSON.stringify(res.body)).not.toMatch(/eyJ/);
  });

  it('X-Forwarded-Proto: https from an untrusted client is ignored', async () => {
    await request(url).post('/auth/login').set(HTTPS).send(ALICE).expect(403);
    await request(url).post('/auth/refresh').set(HTTPS).send({ refreshToken: tokens.refreshToken }).expect(403);
  });

  it('public routes stay reachable over HTTP', async () => {
    await request(url).get('/health').expect(200);
    await request(url).get('/').expect(200);
  });
});

describe('requireHttps behind a trusted proxy (trust proxy = loopback)', () => {
  let url: string;
  beforeAll(async () => {
    url = await start('loopback');
  });

  it('X-Forwarded-Proto: https is honoured through the whole header-transport flow', async () => {
    const login = await request(url)
      .post('/auth/login')
      .set(HTTPS)
      .set('X-Auth-Transport', 'header')
      .send(ALICE)
      .expect(200);
    const auth = `Bearer ${login.body.accessToken}`;
    await request(url).get('/me').set(HTTPS).set('Authorization', auth).expect(200);
    await request(url).post('/notes').set(HTTPS).set('Authorization', auth).send({ text: 'x' }).expect(201);
    const refreshed = await request(url)
      .post('/auth/refresh')
      .set(HTTPS)
      .send({ refreshToken: login.body.refreshToken })
      .expect(200);
    await request(url)
      .post('/auth/logout')
      .set(HTTPS)
      .set('Authorization', `Bearer ${refreshed.body.accessToken}`)
      .expect(204);
  });

  it('and through the cookie flow, where the https origin is the own origin', async () => {
    const origin = { ...HTTPS, Origin: `https://${new URL(url).host}` };
    const c = new CookieClient(url);
    c.absorb(await request(url).post('/auth/login').set(origin).send(ALICE).expect(200));
    await c.get('/me').set(HTTPS).expect(200);
    await c.post('/notes', { text: 'x' }).set(origin).expect(201);
    c.absorb(await c.post('/auth/refresh').set(origin).expect(200));
    await c.post('/auth/logout').set(origin).expect(204);
  });

  it('without the header, or with X-Forwarded-Proto: http, the request is still plain HTTP → 403', async () => {
    await request(url).post('/auth/login').send(ALICE).expect(403);
    await request(url).post('/auth/login').set('X-Forwarded-Proto', 'http').send(ALICE).expect(403);
    const { body } = await request(url)
      .post('/auth/login')
      .set(HTTPS)
      .set('X-Auth-Transport', 'header')
      .send(ALICE)
      .expect(200);
    await request(url).get('/me').set('Authorization', `Bearer ${body.accessToken}`).expect(403);
    await request(url)
      .get('/me')
      .set('X-Forwarded-Proto', 'http')
      .set('Authorization', `Bearer ${body.accessToken}`)
      .expect(403);
  });
});

describe('requireHttps with trust proxy naming another proxy', () => {
  it('X-Forwarded-Proto from 127.0.0.1 is ignored when only 10.0.0.1 is trusted', async () => {
    const url = await start('10.0.0.1');
    await request(url).post('/auth/login').set(HTTPS).set('X-Auth-Transport', 'header').send(ALICE).expect(403);
  });
});
