/**
 * Issue 16 §1/§6: the local validation cache on one replica (memory store and a real
 * redis-server). Every session change is enforced by the replica that made it at once
 * (read-your-writes); a hit sends no Redis command; an entry never outlives the session's
 * absolute deadline, a lower bound of its idle deadline, nor `maxStaleness` when a change
 * message is lost.
 */
import request from 'supertest';
import {
  getSessionRepositoryToken,
  MemorySessionRepository,
  SessionEndedSignal,
  type SessionRepository,
  SessionService,
} from '../../lib/index.js';
import { DbscBrowser } from '../dbsc/helpers/dbsc-client.js';
import { commandCalls, inspector, type RawClient, until } from '../ops/ops-helpers.js';
import { loginHeader } from '../utils/http.js';
import { type RedisProcess, startRedis } from '../utils/redis.js';
import { type RunningSample, startSample, TestClock } from '../utils/sample-app.js';
import { redisTestStore, type TestStore } from '../utils/stores.js';
import { bearer, claimsOf, me, SESSION_CHANGES, stats, warm } from './cache-harness.js';

/** Large, so that only an invalidation (not the bound) can explain a refusal. */
const STALENESS = 60;
const CACHE_OPTIONS = {
  localCache: { maxStaleness: STALENESS },
  maxSessionsPerUser: 3,
  refreshGrace: 0,
  cleanup: { enabled: false },
};

describe.each(['memory', 'redis'] as const)('local cache on one replica, %s store', (kind) => {
  let redis: RedisProcess | undefined;
  let store: TestStore | undefined;
  let raw: RawClient | undefined;
  let sample: RunningSample;
  const clock = new TestClock();

  beforeAll(async () => {
    if (kind === 'redis') {
      redis = await startRedis();
      store = await redisTestStore(redis.url);
      raw = await inspector(redis.url);
    }
    sample = await startSample({ ...CACHE_OPTIONS, ...(store && { store: store.store }) }, { clock });
  });
  afterAll(async () => {
    await sample?.close();
    await raw?.disconnect();
    await store?.close();
    await redis?.stop();
  });

  it('a hit is answered from memory (on Redis: zero commands for 20 requests)', async () => {
    const t = await loginHeader(sample.url);
    await warm(sample, t.accessToken);
    const before = raw ? await commandCalls(raw) : undefined;
    const hits = stats(sample).hits;
    for (let i = 0; i < 20; i++) await me(sample, t.accessToken).expect(200);
    expect(stats(sample).hits - hits).toBe(20);
    if (raw) {
      const after = await commandCalls(raw);
      // INFO is this test's own probe; PUBLISH is the signal's heartbeat.
      const sent = [...after].filter(([cmd]) => cmd !== 'info' && cmd !== 'publish');
      const delta = sent.reduce((n, [cmd, calls]) => n + calls - (before!.get(cmd) ?? 0), 0);
      expect(delta).toBe(0);
    }
  });

  it.each(SESSION_CHANGES)('$name: enforced by the same replica on the very next request', async (change) => {
    const probe = await change.run({ actor: sample, observer: sample, clock });
    expect(await probe()).toBe(true);
  });

  it('a change the cache never hears about is enforced within maxStaleness', async () => {
    const t = await loginHeader(sample.url);
    await warm(sample, t.accessToken);
    const { sub, sid } = claimsOf(t.accessToken);
    // Straight to the store: no signal, as if the message were lost.
    await sample.app.get<symbol, SessionRepository>(getSessionRepositoryToken()).revoke(sub, sid);
    clock.advance(STALENESS - 1);
    await me(sample, t.accessToken).expect(200);
    clock.advance(1);
    await me(sample, t.accessToken).expect(401);
  });
});

/** Short timeouts: an access token that outlives the idle or absolute deadline. */
describe('local cache: deadlines (memory store)', () => {
  let sample: RunningSample;
  const clock = new TestClock();

  beforeAll(async () => {
    sample = await startSample(
      {
        ...CACHE_OPTIONS,
        accessToken: { ttl: 10 },
        idleTimeout: 12,
        absoluteTimeout: 20,
        touchInterval: 5,
        clockTolerance: 0,
      },
      { clock },
    );
  });
  afterAll(() => sample?.close());

  it('an entry never outlives the idle deadline (a token renewed without a use)', async () => {
    const t = await loginHeader(sample.url);
    await warm(sample, t.accessToken);
    clock.advance(4);
    const { sub, sid } = claimsOf(t.accessToken);
    // Silent renewal's path: a new token, no store touch.
    const renewed = sample.app.get(SessionService).renewAccessToken({ userId: sub, id: sid } as never).token;
    await me(sample, renewed).expect(200);
    clock.advance(9); // 13 s after the last use: past the 12 s idle timeout, the token lives 1 s more
    const hits = stats(sample).hits;
    await me(sample, renewed).expect(401);
    expect(stats(sample).hits).toBe(hits);
  });

  it('an entry never outlives the absolute deadline', async () => {
    const t = await loginHeader(sample.url);
    clock.advance(11);
    const renewed = await request(sample.url).post('/auth/refresh').send({ refreshToken: t.refreshToken }).expect(200);
    const access = renewed.body.accessToken as string;
    await warm(sample, access);
    clock.advance(9.5); // 20.5 s after login: past the absolute deadline; idle and token still fine
    await me(sample, access).expect(401);
  });

  it('uses of a cached session are written behind: the idle timeout keeps sliding', async () => {
    const t = await loginHeader(sample.url);
    await warm(sample, t.accessToken);
    for (let i = 0; i < 3; i++) {
      clock.advance(3);
      await me(sample, t.accessToken).expect(200);
    }
    // 9 s in: the session was used at 3, 6 and 9 s; without the write-behind touch the store
    // would end it at 12 s. The queued touch runs within a flush interval.
    const repository = sample.app.get<symbol, SessionRepository>(getSessionRepositoryToken());
    const { sub, sid } = claimsOf(t.accessToken);
    const lastSeen = async () =>
      (await repository.list(sub, clock.now(), 12_000)).find((s) => s.id === sid)?.lastSeenAt;
    const login = clock.now() - 9000;
    await until('the write-behind touch', async () => ((await lastSeen()) ?? 0) > login);
    clock.advance(4.5); // 13.5 s after login, 4.5 s after the last use
    const fresh = await request(sample.url).post('/auth/refresh').send({ refreshToken: t.refreshToken }).expect(200);
    await me(sample, fresh.body.accessToken as string).expect(200);
  });
});

describe('localCache options', () => {
  it('refuses bad values with a message that says what to fix', async () => {
    await expect(startSample({ localCache: { maxStaleness: 0 } })).rejects.toThrow(/localCache.maxStaleness/);
    await expect(startSample({ localCache: { maxEntries: 0.5 } })).rejects.toThrow(/localCache.maxEntries/);
  });

  it('is off by default: no stats, every request asks the store', async () => {
    const sample = await startSample();
    try {
      const t = await loginHeader(sample.url);
      await me(sample, t.accessToken).expect(200);
      expect(stats(sample)).toBeNull();
      await request(sample.url).post('/auth/logout').set(bearer(t.accessToken)).expect(204);
    } finally {
      await sample.close();
    }
  });
});

describe('`changed` messages are published only with localCache on', () => {
  it.each([
    { localCache: false, heard: ['ended'] },
    { localCache: true, heard: ['changed', 'ended'] },
  ])('localCache $localCache: a refresh then a logout are heard as $heard', async ({ localCache, heard }) => {
    const sample = await startSample({ localCache, cleanup: { enabled: false } });
    const kinds: string[] = [];
    const unsubscribe = await sample.app
      .get<symbol, SessionEndedSignal>(SessionEndedSignal)
      .subscribe((m) => kinds.push(m.kind));
    try {
      const t = await loginHeader(sample.url);
      const refreshed = await request(sample.url)
        .post('/auth/refresh')
        .set('X-Auth-Transport', 'header')
        .send({ refreshToken: t.refreshToken })
        .expect(200);
      await request(sample.url)
        .post('/auth/logout')
        .set(bearer((refreshed.body as { accessToken: string }).accessToken))
        .expect(204);
      // The memory signal delivers in order; the logout's `ended` comes after anything the refresh sent.
      await until('the logout to be heard', async () => kinds.includes('ended'));
      expect(kinds).toEqual(heard);
    } finally {
      unsubscribe();
      await sample.close();
    }
  });
});

describe('local cache: DBSC binding changes validation (memory store)', () => {
  let sample: RunningSample;
  const clock = new TestClock();

  beforeAll(async () => {
    sample = await startSample(
      {
        ...CACHE_OPTIONS,
        store: new MemorySessionRepository(),
        dbsc: { enabled: true },
        accessToken: { ttl: 60 },
        silentRenewal: 30,
      },
      { clock },
    );
  });
  afterAll(() => sample?.close());

  it('a session bound after it was cached is never silently renewed (the cache re-reads deviceBound)', async () => {
    const browser = new DbscBrowser(sample.url);
    expect((await browser.login()).status).toBe(200);
    await until('the cookie session to be served from the cache', async () => {
      const hits = stats(sample).hits;
      expect((await browser.get('/me')).status).toBe(200);
      return stats(sample).hits > hits;
    });
    expect((await browser.register()).status).toBe(200);
    clock.advance(35); // the access cookie now has 25 s left: due for silent renewal if it were unbound
    const res = await browser.get('/me');
    expect(res.status).toBe(200);
    const renewed = ([] as string[])
      .concat(res.headers['set-cookie'] ?? [])
      .filter((c) => c.startsWith('__Host-session='));
    expect(renewed).toEqual([]);
  });
});
