/**
 * Issue 14 §1: the per-user session cap over HTTP on memory, Redis and a Redis Cluster. A login
 * beyond the cap ends the least recently used session (its next request is 401), or with
 * `refuse` answers 409 {error:"session_limit"}; 20 parallel logins never leave more than the cap.
 */
import request from 'supertest';
import { SessionService } from '../../lib/index.js';
import { ALICE, BOB, loginHeader } from '../utils/http.js';
import { TestClock } from '../utils/sample-app.js';
import { bearer, CONTROL_STORES, ControlsHarness, recordEvents } from './harness.js';

const CAP = 3;
const harness = new ControlsHarness();
beforeAll(() => harness.start());
afterAll(() => harness.stop());

describe.each(CONTROL_STORES)('session cap on %s', (store) => {
  it('evict-oldest: a login beyond the cap ends the least recently used session, with an audit event', async () => {
    const clock = new TestClock();
    const sample = await harness.sample(store, { maxSessionsPerUser: CAP }, { clock });
    const events = recordEvents(sample);
    const a = await loginHeader(sample.url, ALICE);
    clock.advance(1);
    const b = await loginHeader(sample.url, ALICE);
    clock.advance(1);
    const c = await loginHeader(sample.url, ALICE);
    // Past the touch interval (idle / 10): a's use is recorded, so b is the least recently used.
    clock.advance(200);
    await request(sample.url).get('/me').set(bearer(a.accessToken)).expect(200);
    const d = await loginHeader(sample.url, ALICE);

    await request(sample.url).get('/me').set(bearer(b.accessToken)).expect(401);
    await request(sample.url).post('/auth/refresh').send({ refreshToken: b.refreshToken }).expect(401);
    for (const t of [a, c, d]) await request(sample.url).get('/me').set(bearer(t.accessToken)).expect(200);
    const list = await request(sample.url).get('/auth/sessions').set(bearer(d.accessToken)).expect(200);
    expect(list.body).toHaveLength(CAP);
    const evicted = events.filter((e) => e.type === 'session_revoked' && e.reason === 'evicted');
    expect(evicted).toHaveLength(1);
    expect(evicted[0]).toMatchObject({ userId: 'u-alice', sessionHash: expect.any(String) });
    // Other users have their own cap.
    await loginHeader(sample.url, BOB);
    await request(sample.url).get('/me').set(bearer(a.accessToken)).expect(200);
  });

  it('evict-oldest: 20 parallel logins leave exactly the cap, and only those sessions work', async () => {
    const sample = await harness.sample(store, { maxSessionsPerUser: CAP });
    const logins = await Promise.all(
      Array.from({ length: 20 }, () =>
        request(sample.url).post('/auth/login').set('X-Auth-Transport', 'header').send(ALICE),
      ),
    );
    expect(logins.map((r) => r.status)).toEqual(Array(20).fill(200));
    const me = await Promise.all(
      logins.map((r) =>
        request(sample.url)
          .get('/me')
          .set(bearer(r.body.accessToken as string)),
      ),
    );
    expect(me.filter((r) => r.status === 200)).toHaveLength(CAP);
    expect(me.filter((r) => r.status === 401)).toHaveLength(20 - CAP);
    const live = logins[me.findIndex((r) => r.status === 200)].body.accessToken as string;
    const list = await request(sample.url).get('/auth/sessions').set(bearer(live)).expect(200);
    expect(list.body).toHaveLength(CAP);
  });

  it('refuse: 20 parallel logins get exactly cap × 200 and the rest 409 session_limit; nothing is evicted', async () => {
    const sample = await harness.sample(store, { maxSessionsPerUser: CAP, sessionCapPolicy: 'refuse' });
    const logins = await Promise.all(
      Array.from({ length: 20 }, () =>
        request(sample.url).post('/auth/login').set('X-Auth-Transport', 'header').send(ALICE),
      ),
    );
    const ok = logins.filter((r) => r.status === 200);
    const refused = logins.filter((r) => r.status === 409);
    expect(ok).toHaveLength(CAP);
    expect(refused).toHaveLength(20 - CAP);
    for (const r of refused) {
      expect(r.body).toMatchObject({ error: 'session_limit' });
      expect(r.body).not.toHaveProperty('accessToken');
      expect(r.headers['set-cookie']).toBeUndefined();
    }
    for (const r of ok) {
      await request(sample.url)
        .get('/me')
        .set(bearer(r.body.accessToken as string))
        .expect(200);
    }
    // A logout frees a place.
    await request(sample.url)
      .post('/auth/logout')
      .set(bearer(ok[0].body.accessToken as string))
      .expect(204);
    await loginHeader(sample.url, ALICE);
    await request(sample.url).post('/auth/login').set('X-Auth-Transport', 'header').send(ALICE).expect(409);
  });
});

describe('the default cap', () => {
  it('is finite (50): the 51st login of a user ends the least recently used session', async () => {
    const clock = new TestClock();
    const sample = await harness.sample('memory', {}, { clock });
    const service = sample.app.get(SessionService);
    const first = await service.create({ id: 'u-alice', roles: ['user'] });
    clock.advance(1);
    for (let i = 0; i < 49; i++) await service.create({ id: 'u-alice', roles: ['user'] });
    await request(sample.url).get('/me').set(bearer(first.accessToken)).expect(200);
    await loginHeader(sample.url, ALICE);
    await request(sample.url).get('/me').set(bearer(first.accessToken)).expect(401);
    expect(await service.list('u-alice')).toHaveLength(50);
  });
});
