/**
 * Idle and absolute timeouts, sliding and throttled touches, over real HTTP on the memory store
 * and a real redis-server. Time is a TestClock moved by hand: nothing sleeps.
 */
import request from 'supertest';
import { ALICE, CookieClient } from '../utils/http.js';
import { TestClock } from '../utils/sample-app.js';
import { setCookie } from '../utils/set-cookie.js';
import { E2eHarness, STORES } from './helpers/store-matrix.js';
import { jwtPayload } from './helpers/tokens.js';

const ACCESS_TTL = 60;
const IDLE = 600;
const ABSOLUTE = 3600;
const TOUCH = IDLE / 10; // the default touchInterval
/** Cookie clients get a fresh access cookie when theirs has less than this left (no refresh needed). */
const RENEWAL = 45;

const harness = new E2eHarness();
beforeAll(() => harness.start());
afterAll(() => harness.stop());

const bearer = (token: string) => `Bearer ${token}`;
const iso = (ms: number) => new Date(ms).toISOString();

describe.each(STORES)('timeouts on the $name store', (store) => {
  let clock: TestClock;
  /** Short settings: access 60 s, idle 600 s, absolute 3600 s, default touch interval (60 s). */
  let url: string;
  /** Access TTL just under the idle timeout, so a still-valid JWT can outlive an idle session. */
  let longTtlUrl: string;

  beforeAll(async () => {
    clock = new TestClock();
    const common = { idleTimeout: IDLE, absoluteTimeout: ABSOLUTE };
    url = (
      await harness.sample(store, { ...common, accessToken: { ttl: ACCESS_TTL }, silentRenewal: RENEWAL }, { clock })
    ).url;
    longTtlUrl = (
      await harness.sample(store, { ...common, accessToken: { ttl: IDLE - 10 }, silentRenewal: IDLE - 20 }, { clock })
    ).url;
  });

  const loginHeaderAt = async (base: string) => {
    const res = await request(base).post('/auth/login').set('X-Auth-Transport', 'header').send(ALICE).expect(200);
    return res.body as { accessToken: string; refreshToken: string };
  };
  const refresh = (refreshToken: string) => request(url).post('/auth/refresh').send({ refreshToken });
  const me = (token: string) => request(url).get('/me').set('Authorization', bearer(token));
  /** The session's own row in /auth/sessions, read with its own token. */
  const ownRow = async (get: (path: string) => request.Test) => {
    const res = await get('/auth/sessions').expect(200);
    return (res.body as Array<{ current: boolean; lastSeenAt: string; createdAt: string }>).find((e) => e.current)!;
  };

  it('idle timeout ends the session even though its access token is still valid (S-25)', async () => {
    const idle = new CookieClient(longTtlUrl);
    const active = new CookieClient(longTtlUrl);
    const start = clock.now();
    await idle.login();
    await active.login();

    // Inside the touch interval: served, and the access cookie is renewed, but the idle clock does not move.
    clock.advance(TOUCH / 2);
    const issuedAtLogin = idle.access;
    const early = await idle.get('/me');
    expect(early.status).toBe(200);
    idle.absorb(early);
    expect(idle.access).not.toBe(issuedAtLogin);
    expect(Number(jwtPayload(idle.access).exp)).toBeGreaterThan(Number(jwtPayload(issuedAtLogin).exp));
    expect((await ownRow((p) => idle.get(p))).lastSeenAt).toBe(iso(start));

    // The other session is used once the interval has passed, which slides its idle deadline.
    clock.advance(TOUCH / 2);
    const touched = await active.get('/me');
    expect(touched.status).toBe(200);
    active.absorb(touched);

    clock.advance(IDLE - TOUCH + 1); // start + IDLE + 1
    expect(Number(jwtPayload(idle.access).exp) * 1000).toBeGreaterThan(clock.now());
    expect(Number(jwtPayload(active.access).exp) * 1000).toBeGreaterThan(clock.now());
    const late = await idle.get('/me');
    expect(late.status).toBe(401);
    expect((await idle.refreshTokens()).status).toBe(401);
    expect((await active.get('/me')).status).toBe(200);
  });

  it('a refresh after the idle deadline is refused although the refresh token has not expired', async () => {
    const lapsed = await loginHeaderAt(url);
    const kept = await loginHeaderAt(url);
    clock.advance(IDLE - 1);
    const keptNext = await refresh(kept.refreshToken).expect(200);

    clock.advance(1); // exactly the idle deadline of `lapsed`
    expect(Number(jwtPayload(lapsed.refreshToken).exp) * 1000).toBeGreaterThan(clock.now());
    const res = await refresh(lapsed.refreshToken);
    expect(res.status).toBe(401);
    expect((await refresh(keptNext.body.refreshToken)).status).toBe(200);
  });

  it('activity slides the idle timeout: refresh and a request every idle/2 keep it alive far past the first deadline', async () => {
    const login = await loginHeaderAt(url);
    const start = clock.now();
    let refreshToken = login.refreshToken;
    for (let step = 1; step <= 6; step++) {
      clock.advance(IDLE / 2);
      const res = await refresh(refreshToken);
      expect({ step, status: res.status }).toEqual({ step, status: 200 });
      refreshToken = res.body.refreshToken;
      expect((await me(res.body.accessToken)).status).toBe(200);
    }
    expect(clock.now() - start).toBe(3 * IDLE * 1000);
  });

  it('plain requests slide the idle timeout too: a throttled touch never lets an active session lapse (S-26)', async () => {
    const client = new CookieClient(url);
    await client.login();
    const start = clock.now();
    const step = 50; // shorter than the access TTL (silent renewal keeps the cookie) and than the touch interval
    while (clock.now() - start < 2 * IDLE * 1000) {
      clock.advance(step);
      const res = await client.get('/me');
      expect({ at: (clock.now() - start) / 1000, status: res.status }).toEqual({
        at: (clock.now() - start) / 1000,
        status: 200,
      });
      client.absorb(res);
    }
    // No refresh happened: the session is alive only because validations touched it.
    const row = await ownRow((p) => client.get(p));
    expect(Date.parse(row.lastSeenAt)).toBeGreaterThan(start + IDLE * 1000);
    expect(row.createdAt).toBe(iso(start));
  });

  it('throttled touch: lastSeenAt stays put inside the touch interval and moves after it', async () => {
    const client = new CookieClient(url);
    const start = clock.now();
    await client.login();
    for (const at of [10, 30, TOUCH - 1]) {
      clock.nowMs = start + at * 1000;
      const res = await client.get('/me');
      expect(res.status).toBe(200);
      client.absorb(res);
    }
    expect((await ownRow((p) => client.get(p))).lastSeenAt).toBe(iso(start));

    clock.nowMs = start + TOUCH * 1000;
    expect((await client.get('/me')).status).toBe(200);
    expect((await ownRow((p) => client.get(p))).lastSeenAt).toBe(iso(start + TOUCH * 1000));

    clock.advance(TOUCH - 1);
    const res = await client.get('/me');
    client.absorb(res);
    expect((await ownRow((p) => client.get(p))).lastSeenAt).toBe(iso(start + TOUCH * 1000));
  });

  it('a refresh counts as use: it moves lastSeenAt and the idle deadline', async () => {
    const used = await loginHeaderAt(url);
    const unused = await loginHeaderAt(url);
    const start = clock.now();
    clock.advance(IDLE - 100);
    const next = await refresh(used.refreshToken).expect(200);
    const rows = await request(url)
      .get('/auth/sessions')
      .set('Authorization', bearer(next.body.accessToken))
      .expect(200);
    const row = (rows.body as Array<{ current: boolean; lastSeenAt: string }>).find((e) => e.current)!;
    expect(row.lastSeenAt).toBe(iso(start + (IDLE - 100) * 1000));

    clock.advance(IDLE - 100); // past the first deadline, inside the slid one
    expect((await refresh(next.body.refreshToken)).status).toBe(200);
    expect((await refresh(unused.refreshToken)).status).toBe(401);
  });

  it('the absolute timeout ends the session despite constant activity and refreshes (S-27, S-19)', async () => {
    const client = new CookieClient(url);
    const start = clock.now();
    await client.login();
    const elapsed = () => (clock.now() - start) / 1000;
    while (elapsed() + IDLE / 2 < ABSOLUTE) {
      clock.advance(IDLE / 2);
      const res = await client.refreshTokens();
      expect({ at: elapsed(), status: res.status }).toEqual({ at: elapsed(), status: 200 });
      // The refresh cookie never outlives the absolute deadline (S-34).
      const maxAge = Number(setCookie(res, '__Secure-refresh').attrs['max-age']);
      expect(maxAge).toBeLessThanOrEqual(ABSOLUTE - elapsed());
      expect(maxAge).toBeGreaterThanOrEqual(ABSOLUTE - elapsed() - 1);
      expect((await client.get('/me')).status).toBe(200);
    }
    clock.nowMs = start + (ABSOLUTE - 10) * 1000;
    expect((await client.refreshTokens()).status).toBe(200);
    expect((await client.get('/me')).status).toBe(200);

    clock.nowMs = start + ABSOLUTE * 1000;
    expect(Number(jwtPayload(client.access).exp) * 1000).toBeGreaterThan(clock.now());
    expect((await client.get('/me')).status).toBe(401);
    expect((await client.refreshTokens()).status).toBe(401);
  });
});
