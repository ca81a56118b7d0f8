/**
 * Issue 10 item 2: one clock for liveness. Three sample instances on one redis-server, one with a
 * correct clock, one 100 s fast and one 100 s slow (the module's clock, replaced by the test). Redis TIME decides expiry,
 * idle, grace and pruning, so list, cleanup, logout-all, refresh and validation stay correct on
 * all of them. Access and refresh JWTs are still checked against each instance's own clock
 * (5 s leeway), so every token here is used on the instance that issued it.
 */
import request from 'supertest';
import { SessionCleanupService, type SessionAuditEvent } from '../../lib/index.js';
import { loginHeader } from '../utils/http.js';
import { startRedis, type RedisProcess } from '../utils/redis.js';
import { type RunningSample, startSample } from '../utils/sample-app.js';
import { redisTestStore, type TestStore } from '../utils/stores.js';

const SKEW_MS = 100_000;
// An idle timeout shorter than the skew: a replica deciding with its own clock ends or keeps sessions wrongly.
const options = { idleTimeout: 60, accessToken: { ttl: 30 }, refreshGrace: 10, cleanup: { enabled: false } };

describe('replicas with clocks 100 s off, on one redis-server', () => {
  let redis: RedisProcess;
  const stores: TestStore[] = [];
  const events: SessionAuditEvent[] = [];
  let right: RunningSample;
  let fast: RunningSample;
  let slow: RunningSample;

  beforeAll(async () => {
    redis = await startRedis();
    const start = async (clock?: () => number) => {
      const store = await redisTestStore(redis.url);
      stores.push(store);
      // `server` explicitly: the test helper would otherwise let a given clock decide on Redis too.
      return startSample(
        { ...options, store: store.store, onEvent: (e) => events.push(e) },
        { clock, storeClock: 'server' },
      );
    };
    right = await start();
    fast = await start(() => Date.now() + SKEW_MS);
    slow = await start(() => Date.now() - SKEW_MS);
  });

  afterAll(async () => {
    for (const s of [right, fast, slow]) await s?.close();
    for (const s of stores) await s.close();
    await redis?.stop();
  });

  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  const me = (app: RunningSample, token: string) => request(app.url).get('/me').set(bearer(token));
  const sessionIds = async (app: RunningSample, token: string) =>
    ((await request(app.url).get('/auth/sessions').set(bearer(token)).expect(200)).body as { id: string }[]).map(
      (s) => s.id,
    );

  it('list, cleanup, validate, refresh and logout-all agree on every replica', async () => {
    const laptop = await loginHeader(right.url);
    const phone = await loginHeader(right.url);
    const onRight = await sessionIds(right, laptop.accessToken);
    expect(onRight).toHaveLength(2);

    // The fast replica's cleanup prunes nothing live, so nothing goes missing from the index.
    const pass = await fast.app.get(SessionCleanupService).run();
    expect(pass).toMatchObject({ removed: 0 });
    expect(await sessionIds(right, laptop.accessToken)).toEqual(onRight);

    // A session made on the slow replica is placed at Redis time: alive, not already past its idle deadline.
    const tablet = await loginHeader(slow.url);
    await me(slow, tablet.accessToken).expect(200);

    // The fast replica lists every live session and removes none of them.
    const desktop = await loginHeader(fast.url);
    const onFast = await sessionIds(fast, desktop.accessToken);
    expect(onFast).toHaveLength(4);
    expect(onFast).toEqual(expect.arrayContaining(onRight));
    await me(right, laptop.accessToken).expect(200);
    await me(right, phone.accessToken).expect(200);
    expect(await sessionIds(slow, tablet.accessToken)).toHaveLength(4);

    // Refresh on the fast and the slow replica; a replay at once is inside the window by Redis time.
    for (const [app, tokens] of [
      [fast, desktop],
      [slow, tablet],
    ] as const) {
      const next = await request(app.url).post('/auth/refresh').send({ refreshToken: tokens.refreshToken }).expect(200);
      const replay = await request(app.url)
        .post('/auth/refresh')
        .send({ refreshToken: tokens.refreshToken })
        .expect(200);
      expect(replay.body.refreshToken).toBe(next.body.refreshToken);
      await me(app, next.body.accessToken).expect(200);
      tokens.accessToken = next.body.accessToken;
    }
    expect(events.filter((e) => e.type === 'authn_token_reuse')).toEqual([]);

    // logout-all on the right replica ends every session, wherever it was made.
    await request(right.url).post('/auth/logout-all').set(bearer(phone.accessToken)).expect(204);
    await me(right, laptop.accessToken).expect(401);
    await me(fast, desktop.accessToken).expect(401);
    await me(slow, tablet.accessToken).expect(401);
  });
});
