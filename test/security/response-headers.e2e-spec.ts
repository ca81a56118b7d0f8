/**
 * Response headers of authenticated app routes (SECURITY.md S-44, S-49), over real HTTP.
 *
 * What the module sets (lib/auth/session.guard.ts, lib/http/session-http.service.ts):
 * `SessionGuard` calls `protectAuthenticated()` before it authenticates, so every answer of an
 * `@Authenticated()` route, refusals included, has `Cache-Control: no-store`, `Pragma: no-cache`
 * and `X-Content-Type-Options: nosniff`.
 */
import request from 'supertest';
import { MemorySessionRepository } from '../../lib/index.js';
import { ADMIN, ALICE, CookieClient, loginHeader } from '../utils/http.js';
import { type RunningSample, startSample } from '../utils/sample-app.js';
import { tamperSignature } from '../e2e/helpers/tokens.js';

type Answer = { status: number; headers: Record<string, string | string[] | undefined> };

function expectNotCacheable(res: Answer): void {
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.headers['pragma']).toBe('no-cache');
}

function expectAuthenticatedHeaders(res: Answer): void {
  expectNotCacheable(res);
  expect(res.headers['x-content-type-options']).toBe('nosniff');
}

describe('headers of authenticated app routes (S-44, S-49)', () => {
  let sample: RunningSample;
  let url: string;
  beforeAll(async () => {
    // The store is given so a REDIS_URL in the environment cannot move this spec onto Redis.
    sample = await startSample({ store: new MemorySessionRepository() });
    url = sample.url;
  });
  afterAll(() => sample?.close());

  const bearer = (token: string) => `Bearer ${token}`;

  describe('successful answers', () => {
    it('GET /me with a bearer token: no-store, no-cache, nosniff', async () => {
      const { accessToken } = await loginHeader(url, ALICE);
      const res = await request(url).get('/me').set('Authorization', bearer(accessToken));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ email: ALICE.email });
      expectAuthenticatedHeaders(res);
    });

    it('GET /me with the access cookie: no-store, no-cache, nosniff', async () => {
      const alice = new CookieClient(url);
      expect((await alice.login(ALICE)).status).toBe(200);
      expect(alice.access).not.toBe('');
      const res = await alice.get('/me');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ email: ALICE.email });
      expectAuthenticatedHeaders(res);
    });

    it('POST /notes by bearer and by cookie (+ CSRF token): the same headers on the 201', async () => {
      const { accessToken } = await loginHeader(url, ALICE);
      const byBearer = await request(url)
        .post('/notes')
        .set('Authorization', bearer(accessToken))
        .send({ text: 'bearer note' });
      expect(byBearer.status).toBe(201);
      expectAuthenticatedHeaders(byBearer);

      const alice = new CookieClient(url);
      await alice.login(ALICE);
      const byCookie = await alice.post('/notes', { text: 'cookie note' });
      expect(byCookie.status).toBe(201);
      expectAuthenticatedHeaders(byCookie);
    });

    it('GET /admin/stats for the admin (a route with roles): the same headers', async () => {
      const { accessToken } = await loginHeader(url, ADMIN);
      const res = await request(url).get('/admin/stats').set('Authorization', bearer(accessToken));
      expect(res.status).toBe(200);
      expectAuthenticatedHeaders(res);
    });
  });

  describe('refusals carry the same headers', () => {
    it('GET /me with no credentials → 401, no-store, no-cache, nosniff', async () => {
      const res = await request(url).get('/me');
      expect(res.status).toBe(401);
      expectAuthenticatedHeaders(res);
    });

    it('GET /me with a tampered bearer token → 401 (RFC 6750 header), no-store, no-cache, nosniff', async () => {
      const { accessToken } = await loginHeader(url, ALICE);
      const res = await request(url)
        .get('/me')
        .set('Authorization', bearer(tamperSignature(accessToken)));
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer\b/);
      expectAuthenticatedHeaders(res);
    });

    it('GET /me with the cookie of a logged-out session → 401, no-store, no-cache, nosniff', async () => {
      const alice = new CookieClient(url);
      await alice.login(ALICE);
      expect((await alice.get('/me')).status).toBe(200);
      const access = alice.access;
      expect((await alice.post('/auth/logout')).status).toBe(204);
      const res = await request(url).get('/me').set('Cookie', `${alice.accessName}=${access}`);
      expect(res.status).toBe(401);
      expectAuthenticatedHeaders(res);
    });

    it('GET /me with a revoked bearer token → 401, no-store, no-cache, nosniff', async () => {
      const { accessToken } = await loginHeader(url, ALICE);
      await request(url).post('/auth/logout').set('Authorization', bearer(accessToken)).expect(204);
      const res = await request(url).get('/me').set('Authorization', bearer(accessToken));
      expect(res.status).toBe(401);
      expectAuthenticatedHeaders(res);
    });

    it('GET /admin/stats as a normal user → 403, no-store, no-cache, nosniff', async () => {
      const { accessToken } = await loginHeader(url, ALICE);
      const res = await request(url).get('/admin/stats').set('Authorization', bearer(accessToken));
      expect(res.status).toBe(403);
      expectAuthenticatedHeaders(res);
    });

    it('POST /notes by cookie without the CSRF token → 403, no-store, no-cache, nosniff', async () => {
      const alice = new CookieClient(url);
      await alice.login(ALICE);
      const res = await alice.post('/notes', { text: 'no csrf' }, false);
      expect(res.status).toBe(403);
      expectAuthenticatedHeaders(res);
    });
  });
});
