/**
 * Issue 16 §3: the sample's GET /metrics over real HTTP, on the memory store and a real
 * redis-server. Each kind of request moves its own series, by the amount the test caused; no
 * label or value carries a user id, session id, e-mail, address or token; a store outage shows
 * up as store errors while /metrics itself keeps answering.
 */
import request from 'supertest';
import { jwtPayload } from '../e2e/helpers/tokens.js';
import { E2eHarness, STORES } from '../e2e/helpers/store-matrix.js';
import { ALICE, BOB, loginHeader } from '../utils/http.js';
import { startRedis } from '../utils/redis.js';
import { type RunningSample, startSample, TestClock } from '../utils/sample-app.js';
import { redisTestStore } from '../utils/stores.js';
import { delta, type Sample, scrape, valueOf } from './exposition.js';

const harness = new E2eHarness();
beforeAll(() => harness.start());
afterAll(() => harness.stop());

const LABEL_VALUES: Record<string, RegExp> = {
  result: /^(success|failure|refused|impersonation|rotated|raced|reused|invalid|missing|expired|bound|error)$/,
  reason: /^(logout|logout_all|logout_others|revoked_by_user|admin|relogin|evicted|theft|password_changed|other)$/,
  operation: /^[a-zA-Z]+$/,
  le: /^([0-9.e+-]+|\+Inf)$/,
};

function bearer(url: string, token: string) {
  return {
    get: (path: string) => request(url).get(path).set('Authorization', `Bearer ${token}`),
    post: (path: string) => request(url).post(path).set('Authorization', `Bearer ${token}`),
  };
}

function refresh(url: string, refreshToken: string) {
  return request(url).post('/auth/refresh').set('X-Auth-Transport', 'header').send({ refreshToken });
}

describe.each(STORES)('GET /metrics on the $name store', (store) => {
  const clock = new TestClock();
  let sample: RunningSample;
  /** Everything that must never appear in the exposition. */
  const secrets = new Set<string>(['u-alice', 'u-bob', ALICE.email, BOB.email, '127.0.0.1']);

  beforeAll(async () => {
    sample = await harness.sample(store, {}, { clock });
  });

  it('answers the text exposition with the registry content type, every series known from the start', async () => {
    const { samples, contentType } = await scrape(sample.url);
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4; charset=utf-8$/);
    // Zero-initialised: rate() and alerts see each series before its first event.
    expect(samples).toEqual(
      expect.arrayContaining([
        { name: 'session_logins_total', labels: { result: 'success' }, value: 0 },
        { name: 'session_refreshes_total', labels: { result: 'reused' }, value: 0 },
        { name: 'session_refresh_token_reuse_total', labels: {}, value: 0 },
        { name: 'session_revocations_total', labels: { reason: 'theft' }, value: 0 },
        { name: 'session_store_errors_total', labels: { operation: 'validate' }, value: 0 },
        { name: 'session_active_sessions', labels: {}, value: 0 },
      ]),
    );
    // No local cache in this app: no cache series at all.
    expect(samples.some((s) => s.name.startsWith('session_cache_'))).toBe(false);
  });

  it('logins, requests, a refresh, a race, a reuse (theft) and a logout each move their own series', async () => {
    const { url } = sample;
    let before: Sample[] = (await scrape(url)).samples;
    let after: Sample[];
    const moved = (name: string, labels: Record<string, string> = {}) => delta(before, after, name, labels);

    // Logins: two successes and a wrong password.
    const alice = await loginHeader(url, ALICE);
    const bob = await loginHeader(url, BOB);
    await request(url)
      .post('/auth/login')
      .send({ ...ALICE, password: 'wrong-password-123' })
      .expect(401);
    for (const t of [alice, bob]) {
      secrets
        .add(t.accessToken)
        .add(t.refreshToken)
        .add(String(jwtPayload(t.accessToken).sid));
    }
    after = (await scrape(url)).samples;
    expect(moved('session_logins_total', { result: 'success' })).toBe(2);
    expect(moved('session_logins_total', { result: 'failure' })).toBe(1);
    expect(moved('session_active_sessions')).toBe(2);
    expect(moved('session_store_operation_duration_seconds_count', { operation: 'create' })).toBe(2);

    // Authenticated requests: one store validation each, timed.
    before = after;
    for (let i = 0; i < 3; i++) await bearer(url, alice.accessToken).get('/me').expect(200);
    after = (await scrape(url)).samples;
    expect(moved('session_store_operation_duration_seconds_count', { operation: 'validate' })).toBe(3);
    expect(moved('session_store_operation_duration_seconds_sum', { operation: 'validate' })).toBeGreaterThan(0);
    expect(moved('session_store_operation_duration_seconds_bucket', { operation: 'validate', le: '+Inf' })).toBe(3);

    // A refresh rotates; the same token again inside the grace window is a race, not theft.
    before = after;
    const rotated = await refresh(url, alice.refreshToken).expect(200);
    await refresh(url, alice.refreshToken).expect(200);
    secrets.add(rotated.body.refreshToken as string).add(rotated.body.accessToken as string);
    after = (await scrape(url)).samples;
    expect(moved('session_refreshes_total', { result: 'rotated' })).toBe(1);
    expect(moved('session_refreshes_total', { result: 'raced' })).toBe(1);
    expect(moved('session_refresh_token_reuse_total')).toBe(0);
    expect(moved('session_active_sessions')).toBe(0);

    // Past the grace window the rotated-out token is theft: the session ends.
    before = after;
    clock.advance(11);
    await refresh(url, alice.refreshToken).expect(401);
    after = (await scrape(url)).samples;
    expect(moved('session_refreshes_total', { result: 'reused' })).toBe(1);
    expect(moved('session_refresh_token_reuse_total')).toBe(1);
    expect(moved('session_revocations_total', { reason: 'theft' })).toBe(1);
    expect(moved('session_active_sessions')).toBe(-1);

    // Logout; the logged-out session's refresh token then finds no session.
    before = after;
    await bearer(url, bob.accessToken).post('/auth/logout').expect(204);
    await refresh(url, bob.refreshToken).expect(401);
    after = (await scrape(url)).samples;
    expect(moved('session_revocations_total', { reason: 'logout' })).toBe(1);
    expect(moved('session_refreshes_total', { result: 'missing' })).toBe(1);
    expect(moved('session_active_sessions')).toBe(-1);
    // Nothing failed at the store on the way.
    expect(after.filter((s) => s.name === 'session_store_errors_total').every((s) => s.value === 0)).toBe(true);
  });

  it('carries no user id, session id, e-mail, address or token, and labels only from fixed sets', async () => {
    const { text, samples } = await scrape(sample.url);
    expect(secrets.size).toBeGreaterThan(8); // the ids and tokens the previous test used
    for (const secret of secrets) expect(text).not.toContain(secret);
    for (const s of samples) {
      expect(s.name).toMatch(/^session_/);
      for (const [label, value] of Object.entries(s.labels)) {
        expect(Object.keys(LABEL_VALUES)).toContain(label);
        expect(value).toMatch(LABEL_VALUES[label]);
      }
    }
  });
});

describe('a store outage (real redis-server, killed)', () => {
  it('counts store errors by operation while requests answer 503 and /metrics keeps answering', async () => {
    const redis = await startRedis();
    const s = await redisTestStore(redis.url);
    const sample = await startSample({ store: s.store, redis: { commandTimeout: 500 } });
    try {
      const alice = await loginHeader(sample.url, ALICE);
      const before = (await scrape(sample.url)).samples;
      await redis.kill();
      await bearer(sample.url, alice.accessToken).get('/me').expect(503);
      await request(sample.url).post('/auth/login').set('X-Auth-Transport', 'header').send(BOB).expect(503);
      await refresh(sample.url, alice.refreshToken).expect(503);
      const after = (await scrape(sample.url)).samples;
      expect(delta(before, after, 'session_store_errors_total', { operation: 'validate' })).toBe(1);
      expect(delta(before, after, 'session_store_errors_total', { operation: 'create' })).toBe(1);
      expect(delta(before, after, 'session_store_errors_total', { operation: 'rotate' })).toBe(1);
      expect(delta(before, after, 'session_refreshes_total', { result: 'error' })).toBe(1);
      // A failed call is still timed: latency alerts see outages too.
      expect(delta(before, after, 'session_store_operation_duration_seconds_count', { operation: 'validate' })).toBe(1);
      expect(valueOf(after, 'session_logins_total', { result: 'success' })).toBe(1);
    } finally {
      await sample.close();
      await s.close();
      await redis.stop().catch(() => undefined);
    }
  });
});
