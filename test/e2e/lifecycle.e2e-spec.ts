/**
 * Token lifecycle over real HTTP on the memory store and a real redis-server: rotation, reuse
 * detection with its grace window, type confusion, logout, logout-all, session listing and
 * revocation, CSRF tokens, login fixation and revocation through SessionService.
 */
import request from 'supertest';
import { SessionService } from '../../lib/index.js';
import { ALICE, BOB, CookieClient, loginHeader } from '../utils/http.js';
import { type RunningSample, TestClock } from '../utils/sample-app.js';
import { setCookie } from '../utils/set-cookie.js';
import { E2eHarness, STORES } from './helpers/store-matrix.js';
import { jwtPayload, tamperSignature, unknownSessionId } from './helpers/tokens.js';

const GRACE = 2;
const INVALID_TOKEN = /^Bearer\b.*error="invalid_token"/;

const harness = new E2eHarness();
beforeAll(() => harness.start());
afterAll(() => harness.stop());

const bearer = (token: string) => `Bearer ${token}`;
const sidOf = (token: string) => String(jwtPayload(token).sid);

describe.each(STORES)('token lifecycle on the $name store', (store) => {
  let clock: TestClock;
  let sample: RunningSample;
  let url: string;
  beforeAll(async () => {
    clock = new TestClock();
    sample = await harness.sample(store, { refreshGrace: GRACE }, { clock });
    url = sample.url;
  });

  const me = (token: string) => request(url).get('/me').set('Authorization', bearer(token));
  const refresh = (refreshToken: string) => request(url).post('/auth/refresh').send({ refreshToken });
  const loginAs = (user = ALICE, userAgent = 'lifecycle-test') =>
    request(url)
      .post('/auth/login')
      .set('X-Auth-Transport', 'header')
      .set('User-Agent', userAgent)
      .send(user)
      .expect(200)
      .then((res) => res.body as { accessToken: string; refreshToken: string });

  describe('refresh rotation and reuse', () => {
    it('rotates: the new refresh token differs and the new access token works', async () => {
      const login = await loginHeader(url);
      const res = await refresh(login.refreshToken);
      expect(res.status).toBe(200);
      expect(res.body.refreshToken).not.toBe(login.refreshToken);
      expect(res.body.accessToken).not.toBe(login.accessToken);
      expect(sidOf(res.body.accessToken)).toBe(sidOf(login.accessToken));
      expect((await me(res.body.accessToken)).status).toBe(200);
      // And the chain goes on: the rotated token rotates again.
      const again = await refresh(res.body.refreshToken);
      expect(again.status).toBe(200);
      expect(again.body.refreshToken).not.toBe(res.body.refreshToken);
    });

    it('rotates cookies too, and the CSRF token of the answer works', async () => {
      const client = new CookieClient(url);
      await client.login();
      const before = { access: client.access, refresh: client.refresh };
      expect((await client.refreshTokens()).status).toBe(200);
      expect(client.refresh).not.toBe(before.refresh);
      expect(client.access).not.toBe(before.access);
      expect((await client.get('/me')).status).toBe(200);
      expect((await client.post('/notes', { text: 'after refresh' })).status).toBe(201);
    });

    it('an old refresh token after the grace window is theft: 401 and the whole session is revoked', async () => {
      const login = await loginAs();
      const bystander = await loginAs(); // another session of the same user
      const rotated = await refresh(login.refreshToken).expect(200);
      expect((await me(rotated.body.accessToken)).status).toBe(200);

      clock.advance(GRACE + 1);
      const replay = await refresh(login.refreshToken);
      expect(replay.status).toBe(401);
      expect(replay.headers['www-authenticate']).toMatch(INVALID_TOKEN);
      // The newest tokens die with the session, on the very next request.
      expect((await me(rotated.body.accessToken)).status).toBe(401);
      expect((await refresh(rotated.body.refreshToken)).status).toBe(401);
      // Only that session: the user's other session is untouched.
      expect((await me(bystander.accessToken)).status).toBe(200);
      expect((await refresh(bystander.refreshToken)).status).toBe(200);
    });

    it('inside the grace window the old token answers the same successor refresh token', async () => {
      const login = await loginAs();
      const first = await refresh(login.refreshToken).expect(200);
      clock.advance(GRACE - 1);
      const second = await refresh(login.refreshToken);
      expect(second.status).toBe(200);
      expect(second.body.refreshToken).toBe(first.body.refreshToken);
      expect((await me(second.body.accessToken)).status).toBe(200);
      expect((await me(first.body.accessToken)).status).toBe(200);
      // The session was not treated as stolen: its successor keeps rotating.
      const next = await refresh(first.body.refreshToken);
      expect(next.status).toBe(200);
      expect(next.body.refreshToken).not.toBe(first.body.refreshToken);
    });

    it('a tampered refresh token is refused without revoking the session (S-18)', async () => {
      const login = await loginAs();
      const forged = tamperSignature(login.refreshToken);
      expect(forged).not.toBe(login.refreshToken);
      const res = await refresh(forged);
      expect(res.status).toBe(401);
      expect((await me(login.accessToken)).status).toBe(200);
      const rotated = await refresh(login.refreshToken);
      expect(rotated.status).toBe(200);

      // A tampered copy of the rotated-out token, past the grace window, is not "reuse" either.
      clock.advance(GRACE + 1);
      expect((await refresh(tamperSignature(login.refreshToken))).status).toBe(401);
      expect((await me(rotated.body.accessToken)).status).toBe(200);
      expect((await refresh(rotated.body.refreshToken)).status).toBe(200);
    });

    it('a refresh token is never an access token, nor the reverse', async () => {
      const login = await loginAs();
      const asAccess = await me(login.refreshToken);
      expect(asAccess.status).toBe(401);
      expect(asAccess.headers['www-authenticate']).toMatch(INVALID_TOKEN);
      expect((await refresh(login.accessToken)).status).toBe(401);

      // The same through cookies: each token in the other's cookie.
      const asAccessCookie = await request(url).get('/me').set('Cookie', `__Host-session=${login.refreshToken}`);
      expect(asAccessCookie.status).toBe(401);
      const asRefreshCookie = await request(url)
        .post('/auth/refresh')
        .set('Cookie', `__Secure-refresh=${login.accessToken}`);
      expect(asRefreshCookie.status).toBe(401);

      // Refusals did not harm the session.
      expect((await me(login.accessToken)).status).toBe(200);
      expect((await refresh(login.refreshToken)).status).toBe(200);
    });
  });

  describe('logout', () => {
    it('cookie logout: 204, both cookies cleared on their paths, then /me and the refresh cookie 401', async () => {
      const client = new CookieClient(url);
      await client.login();
      const old = { access: client.access, refresh: client.refresh, csrf: client.csrf };
      const res = await client.post('/auth/logout');
      expect(res.status).toBe(204);
      const access = setCookie(res, '__Host-session');
      const refreshCookie = setCookie(res, '__Secure-refresh');
      expect(access.value).toBe('');
      expect(access.attrs['max-age']).toBe('0');
      expect(access.attrs.path).toBe('/');
      expect(refreshCookie.value).toBe('');
      expect(refreshCookie.attrs['max-age']).toBe('0');
      expect(refreshCookie.attrs.path).toBe('/auth/refresh');

      // A client that ignores the clearing gets nothing from the old cookies.
      expect((await client.get('/me')).status).toBe(401);
      const replay = await request(url)
        .post('/auth/refresh')
        .set('Cookie', `__Secure-refresh=${old.refresh}`)
        .set('X-CSRF-Token', old.csrf);
      expect(replay.status).toBe(401);
    });

    it('header logout ends the session server-side', async () => {
      const login = await loginAs();
      expect((await request(url).post('/auth/logout').set('Authorization', bearer(login.accessToken))).status).toBe(
        204,
      );
      expect((await me(login.accessToken)).status).toBe(401);
      expect((await refresh(login.refreshToken)).status).toBe(401);
    });

    it('logout-all revokes every session of the user and none of another user', async () => {
      const a1 = await loginAs(ALICE);
      const a2 = new CookieClient(url);
      await a2.login(ALICE);
      const b = await loginAs(BOB);

      const res = await request(url).post('/auth/logout-all').set('Authorization', bearer(a1.accessToken));
      expect(res.status).toBe(204);
      expect((await me(a1.accessToken)).status).toBe(401);
      expect((await refresh(a1.refreshToken)).status).toBe(401);
      expect((await a2.get('/me')).status).toBe(401);
      expect((await a2.refreshTokens()).status).toBe(401);

      expect((await me(b.accessToken)).status).toBe(200);
      expect((await refresh(b.refreshToken)).status).toBe(200);
    });
  });

  describe('session management', () => {
    it('GET /auth/sessions lists {id, createdAt, lastSeenAt, userAgent, ip, device, current} with exactly one current', async () => {
      const tag = Math.random().toString(36).slice(2);
      const loginTime = new Date(clock.now()).toISOString();
      const mine = await loginAs(ALICE, `ua-mine-${tag}`);
      const other = await loginAs(ALICE, `ua-other-${tag}`);
      await loginAs(BOB, `ua-bob-${tag}`);

      const res = await request(url).get('/auth/sessions').set('Authorization', bearer(mine.accessToken));
      expect(res.status).toBe(200);
      const list = res.body as Array<Record<string, unknown>>;
      for (const entry of list) {
        // `device` joined the entry with issue 14 (DESIGN.md "Contract additions").
        expect(Object.keys(entry).sort()).toEqual([
          'createdAt',
          'current',
          'device',
          'id',
          'ip',
          'lastSeenAt',
          'userAgent',
        ]);
        expect(typeof entry.ip).toBe('string');
        expect(new Date(String(entry.createdAt)).toISOString()).toBe(entry.createdAt);
        expect(new Date(String(entry.lastSeenAt)).toISOString()).toBe(entry.lastSeenAt);
      }
      expect(list.filter((e) => e.current === true)).toHaveLength(1);
      expect(new Set(list.map((e) => e.id)).size).toBe(list.length);

      const current = list.find((e) => e.current === true)!;
      expect(current).toMatchObject({ id: sidOf(mine.accessToken), userAgent: `ua-mine-${tag}`, createdAt: loginTime });
      expect(String(current.ip)).toMatch(/127\.0\.0\.1|::1/);
      expect(list.find((e) => e.userAgent === `ua-other-${tag}`)).toMatchObject({
        id: sidOf(other.accessToken),
        current: false,
      });
      // Another user's sessions are invisible (S-30).
      expect(list.some((e) => e.userAgent === `ua-bob-${tag}`)).toBe(false);

      const fromOther = await request(url)
        .get('/auth/sessions')
        .set('Authorization', bearer(other.accessToken))
        .expect(200);
      const otherCurrent = (fromOther.body as Array<{ id: string; current: boolean }>).filter((e) => e.current);
      expect(otherCurrent.map((e) => e.id)).toEqual([sidOf(other.accessToken)]);
    });

    it('DELETE /auth/sessions/:id answers 204 and that session gets 401 on its next request', async () => {
      const mine = await loginAs();
      const other = new CookieClient(url);
      await other.login(ALICE);
      const otherSid = sidOf(other.access);

      const res = await request(url)
        .delete(`/auth/sessions/${otherSid}`)
        .set('Authorization', bearer(mine.accessToken));
      expect(res.status).toBe(204);
      expect((await other.get('/me')).status).toBe(401);
      expect((await other.refreshTokens()).status).toBe(401);
      expect((await me(mine.accessToken)).status).toBe(200);
      // Already gone: a second delete is a 404 like any unknown id.
      expect(
        (await request(url).delete(`/auth/sessions/${otherSid}`).set('Authorization', bearer(mine.accessToken))).status,
      ).toBe(404);
    });

    it("another user's session id answers 404, the same as an unknown id, and that session lives on", async () => {
      const alice = await loginAs(ALICE);
      const bob = await loginAs(BOB);
      const theirs = await request(url)
        .delete(`/auth/sessions/${sidOf(bob.accessToken)}`)
        .set('Authorization', bearer(alice.accessToken));
      const unknown = await request(url)
        .delete(`/auth/sessions/${unknownSessionId()}`)
        .set('Authorization', bearer(alice.accessToken));
      expect(theirs.status).toBe(404);
      expect(unknown.status).toBe(404);
      expect(theirs.body).toEqual(unknown.body);
      expect((await me(bob.accessToken)).status).toBe(200);
      expect((await refresh(bob.refreshToken)).status).toBe(200);
    });

    it.each([
      ['a well-formed unknown id', unknownSessionId()],
      ['a short word', 'garbage'],
      ['a long string', 'A'.repeat(500)],
      ['encoded dots', '%2e%2e%2f%2e%2e'],
      ['quotes and spaces', "x'%20OR%20'1'='1"],
      ['a Redis glob', '*'],
    ])('an unknown or garbage id (%s) answers 404', async (_name, id) => {
      const alice = await loginAs();
      const res = await request(url).delete(`/auth/sessions/${id}`).set('Authorization', bearer(alice.accessToken));
      expect(res.status).toBe(404);
      expect((await me(alice.accessToken)).status).toBe(200);
    });

    it('GET /auth/csrf answers a token that works for POST /notes, and only for its own session', async () => {
      const client = new CookieClient(url);
      await client.login();
      client.csrf = '';
      const res = await client.get('/auth/csrf');
      expect(res.status).toBe(200);
      expect(Object.keys(res.body)).toEqual(['csrfToken']);
      client.csrf = res.body.csrfToken;
      expect((await client.post('/notes', { text: 'with a fetched token' })).status).toBe(201);

      // Bound to the session (S-39): another session's token is refused.
      const other = new CookieClient(url);
      await other.login();
      const stolen = await request(url)
        .post('/notes')
        .set('Cookie', other.cookieHeader())
        .set('X-CSRF-Token', client.csrf)
        .send({ text: 'x' });
      expect(stolen.status).toBe(403);
    });
  });

  describe('login fixation (S-24)', () => {
    it("a cookie login carrying another live session's cookie ends that session", async () => {
      const first = new CookieClient(url);
      await first.login(ALICE);
      const old = { access: first.access, refresh: first.refresh, csrf: first.csrf };

      const relogin = await request(url).post('/auth/login').set('Cookie', first.cookieHeader()).send(ALICE);
      expect(relogin.status).toBe(200);
      const fresh = setCookie(relogin, '__Host-session').value;
      expect(sidOf(fresh)).not.toBe(sidOf(old.access));

      expect((await request(url).get('/me').set('Cookie', `__Host-session=${old.access}`)).status).toBe(401);
      const oldRefresh = await request(url)
        .post('/auth/refresh')
        .set('Cookie', `__Secure-refresh=${old.refresh}`)
        .set('X-CSRF-Token', old.csrf);
      expect(oldRefresh.status).toBe(401);
      expect((await request(url).get('/me').set('Cookie', `__Host-session=${fresh}`)).status).toBe(200);
    });

    it('a login presenting only the refresh cookie (its access cookie gone) ends that session', async () => {
      const first = new CookieClient(url);
      await first.login(ALICE);
      // Browsers send the refresh cookie only to its path; a client that sends it to login anyway is heard.
      const relogin = await request(url)
        .post('/auth/login')
        .set('Cookie', `__Secure-refresh=${first.refresh}`)
        .send(ALICE);
      expect(relogin.status).toBe(200);
      expect((await request(url).get('/me').set('Cookie', `__Host-session=${first.access}`)).status).toBe(401);
      const oldRefresh = await request(url)
        .post('/auth/refresh')
        .set('Cookie', `__Secure-refresh=${first.refresh}`)
        .set('X-CSRF-Token', first.csrf);
      expect(oldRefresh.status).toBe(401);
    });

    it('a login as another user ends the presented session too', async () => {
      const alice = new CookieClient(url);
      await alice.login(ALICE);
      const bobLogin = await request(url).post('/auth/login').set('Cookie', alice.cookieHeader()).send(BOB);
      expect(bobLogin.status).toBe(200);
      expect(bobLogin.body.user.id).toBe('u-bob');
      expect((await alice.get('/me')).status).toBe(401);
    });

    it('a header login carrying a live bearer token ends that session', async () => {
      const first = await loginAs();
      const second = await request(url)
        .post('/auth/login')
        .set('X-Auth-Transport', 'header')
        .set('Authorization', bearer(first.accessToken))
        .send(ALICE);
      expect(second.status).toBe(200);
      expect((await me(first.accessToken)).status).toBe(401);
      expect((await refresh(first.refreshToken)).status).toBe(401);
      expect((await me(second.body.accessToken)).status).toBe(200);
    });
  });

  it('revoking through SessionService makes the very next request 401, for both transports', async () => {
    const sessions = sample.app.get(SessionService);
    const header = await loginAs();
    const cookie = new CookieClient(url);
    await cookie.login();
    expect((await me(header.accessToken)).status).toBe(200);
    expect((await cookie.get('/me')).status).toBe(200);

    const h = jwtPayload(header.accessToken);
    const c = jwtPayload(cookie.access);
    await expect(sessions.revoke(String(h.sub), String(h.sid))).resolves.toBe(true);
    await expect(sessions.revoke(String(c.sub), String(c.sid))).resolves.toBe(true);
    expect((await me(header.accessToken)).status).toBe(401);
    expect((await cookie.get('/me')).status).toBe(401);
    expect((await refresh(header.refreshToken)).status).toBe(401);
  });
});
