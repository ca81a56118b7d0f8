/**
 * Issue 14 §2–5 over HTTP on memory, Redis and a Redis Cluster: log out other devices, step-up
 * freshness with re-authentication (RFC 9470), password change with a per-user "not before",
 * and impersonation with the actor recorded.
 */
import request from 'supertest';
import { ADMIN, ALICE, BOB, CookieClient, loginHeader } from '../utils/http.js';
import { type RunningSample, TestClock } from '../utils/sample-app.js';
import { bearer, CONTROL_STORES, ControlsHarness, jwtPayload, recordEvents } from './harness.js';

const FRESH_AGE = 300;
const CHALLENGE = `Bearer error="insufficient_user_authentication", max_age=${FRESH_AGE}`;
const harness = new ControlsHarness();
beforeAll(() => harness.start());
afterAll(() => harness.stop());

describe.each(CONTROL_STORES)('session controls on %s', (store) => {
  let sample: RunningSample;
  const clock = new TestClock();
  beforeAll(async () => {
    sample = await harness.sample(store, {}, { clock });
  });
  const me = (token: string) => request(sample.url).get('/me').set(bearer(token));

  describe('POST /auth/logout-others', () => {
    it('ends every other session of the user, keeps this one and other users; cookies need CSRF', async () => {
      const browser = new CookieClient(sample.url);
      await browser.login(ALICE);
      const phone = await loginHeader(sample.url, ALICE);
      const tablet = await loginHeader(sample.url, ALICE);
      const bob = await loginHeader(sample.url, BOB);
      await browser.post('/auth/logout-others', undefined, false).expect(403);
      await me(phone.accessToken).expect(200);
      const res = await browser.post('/auth/logout-others').expect(204);
      expect(res.headers['cache-control']).toContain('no-store');
      await me(phone.accessToken).expect(401);
      await me(tablet.accessToken).expect(401);
      await request(sample.url).post('/auth/refresh').send({ refreshToken: tablet.refreshToken }).expect(401);
      await browser.get('/me').expect(200);
      await me(bob.accessToken).expect(200);
      const list = await browser.get('/auth/sessions').expect(200);
      expect(list.body).toEqual([expect.objectContaining({ current: true })]);
    });

    it('bearer clients need no CSRF token; without a session it is 401', async () => {
      const a = await loginHeader(sample.url, ALICE);
      const b = await loginHeader(sample.url, ALICE);
      await request(sample.url).post('/auth/logout-others').expect(401);
      await request(sample.url).post('/auth/logout-others').set(bearer(b.accessToken)).expect(204);
      await me(a.accessToken).expect(401);
      await me(b.accessToken).expect(200);
    });
  });

  describe('step-up freshness and POST /auth/reauth', () => {
    it('refresh does not make a session fresh; a stale bearer gets 401 with the RFC 9470 challenge', async () => {
      const t = await loginHeader(sample.url, ALICE);
      clock.advance(FRESH_AGE + 1);
      const renewed = await request(sample.url)
        .post('/auth/refresh')
        .send({ refreshToken: t.refreshToken })
        .expect(200);
      const res = await request(sample.url)
        .post('/account/password')
        .set(bearer(renewed.body.accessToken as string))
        .send({ currentPassword: ALICE.password, newPassword: 'a-new-password-456' })
        .expect(401);
      expect(res.body).toMatchObject({ error: 'insufficient_user_authentication' });
      expect(res.headers['www-authenticate']).toBe(CHALLENGE);
      await me(renewed.body.accessToken as string).expect(200);
    });

    it('a wrong password is 401 and the session stays valid; the right one makes it fresh', async () => {
      const t = await loginHeader(sample.url, BOB);
      clock.advance(FRESH_AGE + 1);
      await request(sample.url)
        .post('/auth/reauth')
        .set(bearer(t.accessToken))
        .send({ password: 'not-bobs-password' })
        .expect(401);
      await me(t.accessToken).expect(200);
      await request(sample.url).post('/auth/reauth').set(bearer(t.accessToken)).send({}).expect(400);
      const ok = await request(sample.url)
        .post('/auth/reauth')
        .set(bearer(t.accessToken))
        .send({ password: BOB.password })
        .expect(200);
      expect(ok.body).toEqual({ authTime: expect.any(String) });
      expect(Math.abs(Date.parse(ok.body.authTime as string) - clock.nowMs)).toBeLessThan(1000);
      // Fresh now: the password route passes the step-up check (then a wrong current password is 401).
      const res = await request(sample.url)
        .post('/account/password')
        .set(bearer(t.accessToken))
        .send({ currentPassword: 'wrong-current-1', newPassword: 'a-new-password-456' })
        .expect(401);
      expect(res.body.error).not.toBe('insufficient_user_authentication');
      await me(t.accessToken).expect(200);
    });

    it('cookie clients: stale is 401 insufficient_user_authentication; reauth needs CSRF and restores freshness', async () => {
      const browser = new CookieClient(sample.url);
      await browser.login(ALICE);
      clock.advance(FRESH_AGE + 1);
      await browser.refreshTokens();
      const stale = await browser
        .post('/account/password', { currentPassword: ALICE.password, newPassword: 'a-new-password-456' })
        .expect(401);
      expect(stale.body).toMatchObject({ error: 'insufficient_user_authentication', maxAge: FRESH_AGE });
      await browser.post('/auth/reauth', { password: ALICE.password }, false).expect(403);
      await browser.post('/auth/reauth', { password: ALICE.password }).expect(200);
      await browser.get('/me').expect(200);
    });
  });

  describe('POST /account/password', () => {
    it('ends every other session (password_changed), this one continues with its tokens, the new password works', async () => {
      const events = recordEvents(sample);
      const current = await loginHeader(sample.url, BOB);
      const other = await loginHeader(sample.url, BOB);
      const browser = new CookieClient(sample.url);
      await browser.login(BOB);
      const alice = await loginHeader(sample.url, ALICE);
      const res = await request(sample.url)
        .post('/account/password')
        .set(bearer(current.accessToken))
        .send({ currentPassword: BOB.password, newPassword: 'bob-new-password-456' })
        .expect(204);
      expect(res.body).toEqual({});
      await me(current.accessToken).expect(200);
      const renewed = await request(sample.url)
        .post('/auth/refresh')
        .send({ refreshToken: current.refreshToken })
        .expect(200);
      await me(renewed.body.accessToken as string).expect(200);
      await me(other.accessToken).expect(401);
      await request(sample.url).post('/auth/refresh').send({ refreshToken: other.refreshToken }).expect(401);
      await browser.get('/me').expect(401);
      await me(alice.accessToken).expect(200);
      expect(events).toContainEqual(expect.objectContaining({ type: 'session_revoked', reason: 'password_changed' }));
      await request(sample.url).post('/auth/login').send(BOB).expect(401);
      const fresh = await loginHeader(sample.url, { email: BOB.email, password: 'bob-new-password-456' });
      // Put the demo password back for the other tests.
      await request(sample.url)
        .post('/account/password')
        .set(bearer(fresh.accessToken))
        .send({ currentPassword: 'bob-new-password-456', newPassword: BOB.password })
        .expect(204);
    });

    it('bad bodies are 400, not 5xx', async () => {
      const t = await loginHeader(sample.url, ALICE);
      for (const body of [{}, { currentPassword: ALICE.password }, { currentPassword: 1, newPassword: 2 }]) {
        await request(sample.url).post('/account/password').set(bearer(t.accessToken)).send(body).expect(400);
      }
      await me(t.accessToken).expect(200);
    });
  });

  describe('POST /admin/impersonate', () => {
    it('header transport: a session of the target with the actor recorded, target roles only, at most 1 h', async () => {
      const events = recordEvents(sample);
      const admin = await loginHeader(sample.url, ADMIN);
      const res = await request(sample.url)
        .post('/admin/impersonate')
        .set(bearer(admin.accessToken))
        .set('X-Auth-Transport', 'header')
        .send({ userId: 'u-alice' })
        .expect(200);
      expect(res.body).toMatchObject({
        user: { id: 'u-alice', email: ALICE.email, role: 'user' },
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
        accessTokenExpiresAt: expect.any(String),
      });
      expect(res.headers['set-cookie']).toBeUndefined();
      const token = res.body.accessToken as string;
      const who = await me(token).expect(200);
      expect(who.body).toEqual({ id: 'u-alice', email: ALICE.email, role: 'user', impersonator: { id: 'u-admin' } });
      await request(sample.url).get('/admin/stats').set(bearer(token)).expect(403);
      await request(sample.url).post('/admin/impersonate').set(bearer(token)).send({ userId: 'u-bob' }).expect(403);
      await request(sample.url)
        .post('/account/password')
        .set(bearer(token))
        .send({ currentPassword: ALICE.password, newPassword: 'a-new-password-456' })
        .expect(403);
      const list = await request(sample.url).get('/auth/sessions').set(bearer(token)).expect(200);
      expect(list.body).toContainEqual(expect.objectContaining({ current: true, impersonator: { id: 'u-admin' } }));
      const own = await loginHeader(sample.url, ALICE);
      const ownList = await request(sample.url).get('/auth/sessions').set(bearer(own.accessToken)).expect(200);
      expect(ownList.body.filter((s: { impersonator?: unknown }) => s.impersonator)).toHaveLength(1);
      // The admin's own session goes on; the impersonation session lives at most an hour.
      await me(admin.accessToken).expect(200);
      const refresh = jwtPayload(res.body.refreshToken as string);
      expect((refresh.exp as number) - (refresh.iat as number)).toBeLessThanOrEqual(3600);
      const renewed = await request(sample.url)
        .post('/auth/refresh')
        .send({ refreshToken: res.body.refreshToken })
        .expect(200);
      // Every audit event of the impersonation session names the actor.
      const hash = events.find((e) => e.type === 'authn_impersonation_start')?.sessionHash;
      expect(hash).toEqual(expect.any(String));
      await request(sample.url)
        .post('/auth/logout')
        .set(bearer(renewed.body.accessToken as string))
        .expect(204);
      const ofSession = events.filter((e) => e.sessionHash === hash);
      expect(ofSession.map((e) => e.type)).toEqual(
        expect.arrayContaining([
          'session_created',
          'authn_impersonation_start',
          'authz_fail',
          'session_renewed',
          'session_revoked',
        ]),
      );
      for (const e of ofSession) expect(e).toMatchObject({ impersonator: 'u-admin' });
    });

    it('ends after its absolute hour even while in use; its expiry event names the actor', async () => {
      const events = recordEvents(sample);
      const admin = await loginHeader(sample.url, ADMIN);
      const res = await request(sample.url)
        .post('/admin/impersonate')
        .set(bearer(admin.accessToken))
        .set('X-Auth-Transport', 'header')
        .send({ userId: 'u-bob' })
        .expect(200);
      let refreshToken = res.body.refreshToken as string;
      let accessToken = res.body.accessToken as string;
      for (let elapsed = 800; elapsed < 3600; elapsed += 800) {
        clock.advance(800);
        const r = await request(sample.url).post('/auth/refresh').send({ refreshToken }).expect(200);
        ({ refreshToken, accessToken } = r.body as { refreshToken: string; accessToken: string });
      }
      // 3601 s after it began: the access token is still unexpired, the session is not.
      clock.advance(3601 - 3200);
      await me(accessToken).expect(401);
      await request(sample.url).post('/auth/refresh').send({ refreshToken }).expect(401);
      expect(events).toContainEqual(
        expect.objectContaining({ type: 'session_expired', userId: 'u-bob', impersonator: 'u-admin' }),
      );
    });

    it('cookie transport answers like login (cookies, csrfToken) and ends the admin cookie session', async () => {
      const admin = new CookieClient(sample.url);
      await admin.login(ADMIN);
      await admin.post('/admin/impersonate', { userId: 'u-alice' }, false).expect(403);
      const res = await admin.post('/admin/impersonate', { userId: 'u-alice' }).expect(200);
      expect(res.body).toMatchObject({ user: { id: 'u-alice' }, csrfToken: expect.any(String) });
      expect(res.body).not.toHaveProperty('accessToken');
      const adminAccess = admin.access;
      admin.absorb(res);
      expect(admin.access).not.toBe(adminAccess);
      const who = await admin.get('/me').expect(200);
      expect(who.body).toMatchObject({ id: 'u-alice', impersonator: { id: 'u-admin' } });
      await request(sample.url).get('/me').set('Cookie', `__Host-session=${adminAccess}`).expect(401);
    });

    it('unknown user 404, non-admin 403, stale admin 401 insufficient_user_authentication, bad body 400', async () => {
      const admin = await loginHeader(sample.url, ADMIN);
      const post = (token: string, body: object) =>
        request(sample.url).post('/admin/impersonate').set(bearer(token)).send(body);
      await post(admin.accessToken, { userId: 'u-nobody' }).expect(404);
      await post(admin.accessToken, { userId: 42 }).expect(400);
      const alice = await loginHeader(sample.url, ALICE);
      await post(alice.accessToken, { userId: 'u-bob' }).expect(403);
      clock.advance(FRESH_AGE + 1);
      const stale = await post(admin.accessToken, { userId: 'u-bob' }).expect(401);
      expect(stale.headers['www-authenticate']).toBe(CHALLENGE);
      expect(stale.body.error).toBe('insufficient_user_authentication');
    });
  });
});
