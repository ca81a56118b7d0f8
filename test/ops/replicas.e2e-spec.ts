/**
 * Issue 5 §4: two sample instances (A and B, each with its own Redis connection) on one real
 * redis-server behave as one app: a session made on A works on B, a logout or revocation on one
 * is enforced by the other on the very next request, and a refresh race split across both
 * instances behaves like the single-instance case (no 401, one successor; reuse ends it everywhere).
 */
import request from 'supertest';
import { ALICE, BOB, CookieClient, loginHeader } from '../utils/http.js';
import { startRedis, type RedisProcess } from '../utils/redis.js';
import { type RunningSample, startSample, TestClock } from '../utils/sample-app.js';
import { CLIENT_CASES, singleClient, type TestClient } from '../utils/redis-clients.js';

const GRACE = 10;

describe.each(CLIENT_CASES)(
  'two sample instances on one redis-server, each with its own $client client',
  ({ client }) => {
    let redis: RedisProcess;
    const stores: TestClient[] = [];
    let a: RunningSample;
    let b: RunningSample;
    // One shared clock, as replicas share real time.
    const clock = new TestClock();

    beforeAll(async () => {
      redis = await startRedis();
      for (let i = 0; i < 2; i++) stores.push(await singleClient(client, redis.url));
      const options = { refreshGrace: GRACE, cleanup: { enabled: false } };
      a = await startSample({ ...options, store: stores[0].store }, { clock });
      b = await startSample({ ...options, store: stores[1].store }, { clock });
    });

    afterAll(async () => {
      await a?.close();
      await b?.close();
      for (const s of stores) await s.close();
      await redis?.stop();
    });

    const me = (app: RunningSample, token: string) =>
      request(app.url).get('/me').set('Authorization', `Bearer ${token}`);

    it('login on A, use on B, logout on B: A rejects the very next request', async () => {
      const t = await loginHeader(a.url);
      await me(b, t.accessToken).expect(200);
      await me(a, t.accessToken).expect(200);
      await request(b.url).post('/auth/logout').set('Authorization', `Bearer ${t.accessToken}`).expect(204);
      await me(a, t.accessToken).expect(401);
      await request(a.url).post('/auth/refresh').send({ refreshToken: t.refreshToken }).expect(401);
    });

    it('a session revoked from the list on A is rejected by B at once', async () => {
      const phone = await loginHeader(b.url, BOB);
      const laptop = await loginHeader(a.url, BOB);
      const list = await request(a.url)
        .get('/auth/sessions')
        .set('Authorization', `Bearer ${laptop.accessToken}`)
        .expect(200);
      const other = (list.body as { id: string; current: boolean }[]).find((s) => !s.current)!;
      await me(b, phone.accessToken).expect(200);
      await request(a.url)
        .delete(`/auth/sessions/${other.id}`)
        .set('Authorization', `Bearer ${laptop.accessToken}`)
        .expect(204);
      await me(b, phone.accessToken).expect(401);
      await me(b, laptop.accessToken).expect(200);
    });

    it('logout-all on B ends the sessions made on A', async () => {
      const fromA = await Promise.all([loginHeader(a.url), loginHeader(a.url)]);
      const fromB = await loginHeader(b.url);
      for (const t of fromA) await me(b, t.accessToken).expect(200);
      await request(b.url).post('/auth/logout-all').set('Authorization', `Bearer ${fromB.accessToken}`).expect(204);
      for (const t of [...fromA, fromB]) {
        await me(a, t.accessToken).expect(401);
        await me(b, t.accessToken).expect(401);
      }
    });

    it('cookie client: CSRF token and refresh from A work on B', async () => {
      const browser = new CookieClient(a.url);
      expect((await browser.login(ALICE)).status).toBe(200);
      const onB = new CookieClient(b.url);
      Object.assign(onB, { access: browser.access, refresh: browser.refresh, csrf: browser.csrf });
      await onB.post('/notes', { text: 'from B' }).expect(201);
      expect((await onB.refreshTokens()).status).toBe(200);
      const backOnA = new CookieClient(a.url);
      Object.assign(backOnA, { access: onB.access, refresh: onB.refresh, csrf: onB.csrf });
      await backOnA.get('/me').expect(200);
      await backOnA.post('/notes', { text: 'from A' }).expect(201);
    });

    it('20 parallel refreshes of one token split across A and B: none 401, all get the same successor', async () => {
      const t = await loginHeader(a.url);
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          request((i % 2 === 0 ? a : b).url)
            .post('/auth/refresh')
            .send({ refreshToken: t.refreshToken }),
        ),
      );
      expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
      const successors = new Set(answers.map((r) => r.body.refreshToken as string));
      expect(successors.size).toBe(1);
      const [successor] = [...successors];
      expect(successor).not.toBe(t.refreshToken);
      for (const [i, r] of answers.entries()) await me(i % 2 === 0 ? b : a, r.body.accessToken).expect(200); // served by the other one

      // The successor is the live token on both instances; the old one is theft after the grace window.
      clock.advance(GRACE + 1);
      const next = await request(b.url).post('/auth/refresh').send({ refreshToken: successor }).expect(200);
      await request(a.url).post('/auth/refresh').send({ refreshToken: t.refreshToken }).expect(401);
      await me(a, next.body.accessToken).expect(401);
      await me(b, next.body.accessToken).expect(401);
    });
  },
);
