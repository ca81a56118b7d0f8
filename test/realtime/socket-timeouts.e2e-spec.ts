/**
 * Issue 13: a socket closes with 4001 within 1 s of its session's idle or absolute deadline (a
 * timer per socket, re-validated when it fires), lives on past its access token while the session
 * lives, and follows the idle deadline as HTTP use slides it. Real time with short timeouts: the
 * deadlines are the store's, so a test clock could not move them for the timers.
 */
import request from 'supertest';
import { E2eHarness, STORES } from '../e2e/helpers/store-matrix.js';
import { loginHeader } from '../utils/http.js';
import { closedWithin, openSocket } from './ws-client.js';

const harness = new E2eHarness();
beforeAll(() => harness.start());
afterAll(() => harness.stop());

const IDLE_S = 2;
const ABSOLUTE_S = 4;
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/**
 * Logs in just after a second boundary. With `ttl: 1` and no leeway the token's `exp` is the next
 * whole second after `iat`, so a login at x.99 s got a token already dead at the handshake.
 */
async function loginEarlyInSecond(url: string) {
  await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 10));
  return loginHeader(url);
}

describe.each(STORES)('socket deadlines on the $name store', (store) => {
  let url: string;
  beforeAll(async () => {
    const sample = await harness.sample(store, {
      accessToken: { ttl: 1 },
      idleTimeout: IDLE_S,
      absoluteTimeout: ABSOLUTE_S,
      // Every use slides the idle deadline, so "last use" is exact.
      touchInterval: 0,
      // No leeway on exp, so the 1 s access token is really dead while the socket lives on.
      clockTolerance: 0,
      cleanup: { enabled: false },
    });
    url = sample.url;
  });

  it('idle timeout: closed within 1 s of the deadline, not before it', async () => {
    const t = await loginEarlyInSecond(url);
    const lastUse = performance.now();
    const s = await openSocket(url, bearer(t.accessToken));
    const closed = await closedWithin(s, IDLE_S * 1000 + 1500);
    expect(closed.code).toBe(4001);
    // The handshake was the last use: it slid the deadline to handshake + idle.
    expect(closed.at - lastUse).toBeGreaterThanOrEqual(IDLE_S * 1000 - 50);
    expect(closed.at - lastUse).toBeLessThan(IDLE_S * 1000 + 1000 + 300);
  });

  it('outlives its access token and follows the sliding idle deadline; the absolute deadline ends it', async () => {
    const t = await loginEarlyInSecond(url);
    const loginAt = performance.now();
    const s = await openSocket(url, bearer(t.accessToken));
    // The access token expires after 1 s; the session lives on through refreshes (each a use).
    await request(url).get('/me').set(bearer(t.accessToken)).expect(200);
    let refreshToken = t.refreshToken;
    let lastUse = loginAt;
    let tokenDead = false;
    // Refresh tokens expire at the absolute deadline rounded down to the second: stop refreshing well before it.
    while (performance.now() - loginAt < ABSOLUTE_S * 1000 - 1300) {
      await new Promise((r) => setTimeout(r, 400));
      const r = await request(url).post('/auth/refresh').send({ refreshToken }).expect(200);
      refreshToken = r.body.refreshToken;
      lastUse = performance.now();
      if (!tokenDead && (await request(url).get('/me').set(bearer(t.accessToken))).status === 401) tokenDead = true;
    }
    expect(tokenDead).toBe(true);
    // Past the first idle deadline (login + 2 s) and past the access token: still answering.
    expect(performance.now() - loginAt).toBeGreaterThan(IDLE_S * 1000);
    expect((await s.me()).user.id).toBe('u-alice');
    const closed = await closedWithin(s, 2500);
    expect(closed.code).toBe(4001);
    // Ended by the absolute deadline (login + 4 s), before the idle one (last use + 2 s) came.
    expect(closed.at - loginAt).toBeLessThan(ABSOLUTE_S * 1000 + 1000);
    expect(closed.at - loginAt).toBeGreaterThanOrEqual(ABSOLUTE_S * 1000 - 300);
    expect(lastUse + IDLE_S * 1000).toBeGreaterThan(closed.at);
  });
});
