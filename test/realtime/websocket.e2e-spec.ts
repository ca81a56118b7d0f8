/**
 * Issue 13: `GET /ws` of the sample with a real `ws` client, on the memory store and a real
 * redis-server. The handshake needs a live session (401 before the upgrade), a cookie handshake
 * must come from an allowed origin (403: cross-site WebSocket hijacking), and the socket is closed
 * with 4001 within 1 s however its session ends.
 */
import request from 'supertest';
import { SessionService } from '../../lib/index.js';
import { E2eHarness, STORES } from '../e2e/helpers/store-matrix.js';
import { ALICE, BOB, CookieClient, loginHeader } from '../utils/http.js';
import type { RunningSample } from '../utils/sample-app.js';
import { closedWithin, openSocket, refusedStatus } from './ws-client.js';

const harness = new E2eHarness();
beforeAll(() => harness.start());
afterAll(() => harness.stop());

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

describe.each(STORES)('GET /ws on the $name store', (store) => {
  let sample: RunningSample;
  let url: string;
  let origin: string;
  beforeAll(async () => {
    // No refresh grace: a replayed refresh token is theft at once.
    sample = await harness.sample(store, { cleanup: { enabled: false }, refreshGrace: 0 });
    url = sample.url;
    origin = url;
  });

  /** A cookie client logged in; its handshake headers as a browser on the app's own page sends them. */
  async function browser(user = ALICE) {
    const c = new CookieClient(url);
    await c.login(user);
    return { client: c, headers: { Cookie: c.cookieHeader(), Origin: origin } };
  }

  describe('handshake', () => {
    it('without credentials: 401 before the upgrade', async () => {
      expect(await refusedStatus(url)).toBe(401);
    });

    it('with a malformed or forged bearer token: 401', async () => {
      expect(await refusedStatus(url, { Authorization: 'Bearer' })).toBe(401);
      expect(await refusedStatus(url, bearer('eyJhbGciOiJub25lIn0.e30.'))).toBe(401);
      expect(await refusedStatus(url, { Cookie: '__Host-session=not.a.jwt', Origin: origin })).toBe(401);
    });

    it('with a revoked session: 401', async () => {
      const t = await loginHeader(url);
      await request(url).post('/auth/logout').set(bearer(t.accessToken)).expect(204);
      expect(await refusedStatus(url, bearer(t.accessToken))).toBe(401);
    });

    it('bearer: opens, and {"type":"me"} answers the session user', async () => {
      const t = await loginHeader(url, BOB);
      const s = await openSocket(url, bearer(t.accessToken));
      await expect(s.me()).resolves.toEqual({
        type: 'me',
        user: { id: 'u-bob', email: 'bob@example.com', role: 'user' },
      });
      s.ws.close();
    });

    it('access cookie from the app’s own origin: opens', async () => {
      const { headers } = await browser();
      const s = await openSocket(url, headers);
      expect((await s.me()).user.email).toBe('alice@example.com');
      s.ws.close();
    });

    it('access cookie from a cross-site page: 403 (cross-site WebSocket hijacking)', async () => {
      const { headers } = await browser();
      expect(await refusedStatus(url, { ...headers, Origin: 'https://evil.example' })).toBe(403);
      expect(await refusedStatus(url, { ...headers, Origin: 'null' })).toBe(403);
      expect(await refusedStatus(url, { ...headers, Origin: origin, 'Sec-Fetch-Site': 'cross-site' })).toBe(403);
    });
  });

  describe('the socket closes with 4001 within 1 s when its session ends', () => {
    it('logout (and the user’s other session keeps its socket)', async () => {
      const { client, headers } = await browser();
      const other = await browser();
      const s = await openSocket(url, headers);
      const kept = await openSocket(url, other.headers);
      await client.post('/auth/logout').expect(204);
      expect((await closedWithin(s, 1000)).code).toBe(4001);
      expect((await kept.me()).user.email).toBe('alice@example.com');
      kept.ws.close();
    });

    it('logout-all closes every socket of the user, not another user’s', async () => {
      const a1 = await loginHeader(url);
      const a2 = await loginHeader(url);
      const b = await loginHeader(url, BOB);
      const s1 = await openSocket(url, bearer(a1.accessToken));
      const s2 = await openSocket(url, bearer(a2.accessToken));
      const sb = await openSocket(url, bearer(b.accessToken));
      await request(url).post('/auth/logout-all').set(bearer(a1.accessToken)).expect(204);
      expect((await closedWithin(s1, 1000)).code).toBe(4001);
      expect((await closedWithin(s2, 1000)).code).toBe(4001);
      expect((await sb.me()).user.id).toBe('u-bob');
      sb.ws.close();
    });

    it('DELETE /auth/sessions/:id from another device', async () => {
      const phone = await loginHeader(url);
      const laptop = await loginHeader(url);
      const s = await openSocket(url, bearer(phone.accessToken));
      const list = await request(url).get('/auth/sessions').set(bearer(laptop.accessToken)).expect(200);
      const phoneId = (list.body as { id: string; current: boolean }[]).filter((x) => !x.current).at(-1)!.id;
      await request(url).delete(`/auth/sessions/${phoneId}`).set(bearer(laptop.accessToken)).expect(204);
      expect((await closedWithin(s, 1000)).code).toBe(4001);
    });

    it('theft: a replayed refresh token ends the session', async () => {
      const t = await loginHeader(url);
      const s = await openSocket(url, bearer(t.accessToken));
      await request(url).post('/auth/refresh').send({ refreshToken: t.refreshToken }).expect(200);
      await request(url).post('/auth/refresh').send({ refreshToken: t.refreshToken }).expect(401);
      expect((await closedWithin(s, 1000)).code).toBe(4001);
    });

    it('revocation through SessionService (an app’s own admin path)', async () => {
      const t = await loginHeader(url);
      const s = await openSocket(url, bearer(t.accessToken));
      const me = await request(url).get('/auth/sessions').set(bearer(t.accessToken)).expect(200);
      const id = (me.body as { id: string; current: boolean }[]).find((x) => x.current)!.id;
      await sample.app.get(SessionService).revoke('u-alice', id, 'admin');
      expect((await closedWithin(s, 1000)).code).toBe(4001);
    });

    it('logout-others closes the other devices’ sockets and keeps this one', async () => {
      const here = await loginHeader(url, BOB);
      const there = await loginHeader(url, BOB);
      const kept = await openSocket(url, bearer(here.accessToken));
      const s = await openSocket(url, bearer(there.accessToken));
      await request(url).post('/auth/logout-others').set(bearer(here.accessToken)).expect(204);
      expect((await closedWithin(s, 1000)).code).toBe(4001);
      expect((await kept.me()).user.id).toBe('u-bob');
      kept.ws.close();
    });

    it('a password change closes the other sessions’ sockets and keeps this one', async () => {
      const here = await loginHeader(url, BOB);
      const there = await loginHeader(url, BOB);
      const kept = await openSocket(url, bearer(here.accessToken));
      const s = await openSocket(url, bearer(there.accessToken));
      const change = (from: string, to: string) =>
        request(url)
          .post('/account/password')
          .set(bearer(here.accessToken))
          .send({ currentPassword: from, newPassword: to })
          .expect(204);
      await change(BOB.password, 'bob-password-456');
      try {
        expect((await closedWithin(s, 1000)).code).toBe(4001);
        expect((await kept.me()).user.id).toBe('u-bob');
      } finally {
        await change('bob-password-456', BOB.password);
        kept.ws.close();
      }
    });

    it('eviction at the session cap closes the evicted session’s socket', async () => {
      const capped = await harness.sample(store, { cleanup: { enabled: false }, maxSessionsPerUser: 2 });
      const first = await loginHeader(capped.url, BOB);
      const s = await openSocket(capped.url, bearer(first.accessToken));
      await loginHeader(capped.url, BOB);
      await loginHeader(capped.url, BOB);
      expect((await closedWithin(s, 1000)).code).toBe(4001);
    });
  });
});
