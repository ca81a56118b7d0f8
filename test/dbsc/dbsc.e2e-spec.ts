/**
 * Issue 15: device-bound sessions (DBSC) over HTTP on the sample, on the memory store and a real
 * redis-server. A Node "browser" (test/dbsc/helpers/dbsc-client.ts) speaks the protocol as
 * Chromium 156 does (values unquoted); test/browser/dbsc.browser.ts runs the real Chromium.
 */
import request from 'supertest';
import { ALICE, BOB, CookieClient } from '../utils/http.js';
import { parseSetCookies } from '../utils/set-cookie.js';
import { type RunningSample, TestClock } from '../utils/sample-app.js';
import { E2eHarness, STORES } from '../e2e/helpers/store-matrix.js';
import { DbscBrowser, parseChallenge, TestDevice } from './helpers/dbsc-client.js';

const TTL = 60;
const harness = new E2eHarness();
beforeAll(() => harness.start());
afterAll(() => harness.stop());

function accessExp(token: string): number {
  return (JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { exp: number }).exp;
}

describe.each(STORES)('DBSC on the $name store', (store) => {
  let sample: RunningSample;
  const clock = new TestClock();
  beforeAll(async () => {
    sample = await harness.sample(store, { dbsc: { enabled: true }, accessToken: { ttl: TTL } }, { clock });
  });

  async function bound(user = ALICE): Promise<DbscBrowser> {
    const b = new DbscBrowser(sample.url);
    expect((await b.login(user)).status).toBe(200);
    expect((await b.register()).status).toBe(200);
    return b;
  }

  it('a cookie login offers registration (ES256 and RS256, the module route, a challenge); a header login does not', async () => {
    const b = new DbscBrowser(sample.url);
    await b.login();
    expect(b.registration).toEqual({
      algorithms: ['ES256', 'RS256'],
      path: '/auth/dbsc/register',
      challenge: expect.stringMatching(/^g/),
      authorization: expect.any(String),
    });
    const header = await request(sample.url).post('/auth/login').set('X-Auth-Transport', 'header').send(ALICE);
    expect(header.status).toBe(200);
    expect(header.headers['secure-session-registration']).toBeUndefined();
  });

  it.each(['ES256', 'RS256'] as const)(
    'registration with an %s key answers the session instructions and a fresh access cookie',
    async (alg) => {
      const b = new DbscBrowser(sample.url, new TestDevice(alg));
      await b.login();
      const before = b.access;
      const res = await b.register();
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.body).toEqual({
        session_identifier: expect.any(String),
        refresh_url: '/auth/dbsc/refresh',
        scope: { include_site: false },
        credentials: [{ type: 'cookie', name: '__Host-session', attributes: 'Path=/; Secure; HttpOnly; SameSite=Lax' }],
      });
      expect(b.access).not.toBe(before);
      expect((await b.get('/me')).status).toBe(200);
      // A second registration of the same session (a replayed proof) is refused.
      expect((await b.register()).status).toBe(403);
    },
  );

  it('a refresh asks for a proof (403 + Secure-Session-Challenge), then renews the access cookie past its lifetime', async () => {
    const b = await bound();
    const { first, second } = await b.dbscRefresh();
    expect(first.status).toBe(403);
    const challenge = parseChallenge(first.headers['secure-session-challenge']);
    expect(challenge.id).toBe(b.sessionIdentifier);
    expect(second?.status).toBe(200);
    expect(second?.body).toEqual(b.instructions);
    // Both values also as RFC 9651 sf-strings, as the spec writes them (Chromium sends them bare).
    const quoted = parseChallenge((await b.refreshRequest()).headers['secure-session-challenge']);
    const asStrings = await b
      .refreshRequest(`"${b.device.proof(quoted.challenge)}"`, `"${b.sessionIdentifier}"`)
      .set('Secure-Session-Skipped', 'server_error;session_identifier="x"');
    expect(asStrings.status).toBe(200);
    clock.advance(TTL + 10);
    expect((await b.get('/me')).status).toBe(401);
    expect((await b.dbscRefresh()).second?.status).toBe(200);
    expect(accessExp(b.access) * 1000).toBeGreaterThan(clock.now());
    expect((await b.get('/me')).status).toBe(200);
  });

  it('a copied access cookie works until its exp; the copied refresh cookie renews nothing and ends nothing', async () => {
    const b = await bound();
    const thief = new CookieClient(sample.url);
    Object.assign(thief, { access: b.access, refresh: b.refresh, csrf: b.csrf });
    expect((await thief.get('/me')).status).toBe(200);
    for (const viaBody of [false, true]) {
      const res = viaBody
        ? await request(sample.url).post('/auth/refresh').send({ refreshToken: b.refresh })
        : await thief.post('/auth/refresh');
      expect(res.status).toBe(401);
      // The refusal clears nothing: the device's own session must not end by a stray refresh call.
      expect(parseSetCookies(res)).toEqual([]);
    }
    clock.advance(TTL + 6);
    expect((await thief.get('/me')).status).toBe(401);
    expect((await b.dbscRefresh()).second?.status).toBe(200);
    expect((await b.get('/me')).status).toBe(200);
  });

  it('an unbound session keeps today’s refresh-cookie flow', async () => {
    const plain = new CookieClient(sample.url);
    await plain.login();
    expect((await plain.refreshTokens()).status).toBe(200);
    expect((await plain.get('/me')).status).toBe(200);
  });

  it('refuses proofs: wrong key, wrong or foreign challenge, replay, alg none, malformed headers; never 5xx', async () => {
    const b = await bound();
    const other = await bound(BOB);
    const challengeOf = async (who = b) =>
      parseChallenge((await who.refreshRequest()).headers['secure-session-challenge']).challenge;

    // Another key signs: 401 (the browser ends its DBSC session; the thief has no key).
    expect((await b.refreshRequest(new TestDevice().proof(await challengeOf()))).status).toBe(401);
    // Bob's challenge, the registration challenge, or a made-up one: 403 with a new challenge.
    for (const jti of [await challengeOf(other), b.registration!.challenge, 'r123.abc.Exyz.def']) {
      const res = await b.refreshRequest(b.device.proof(jti));
      expect(res.status).toBe(403);
      expect(res.headers['secure-session-challenge']).toMatch(/^"r/);
    }
    // A proof is good once.
    const proof = b.device.proof(await challengeOf());
    expect((await b.refreshRequest(proof)).status).toBe(200);
    expect((await b.refreshRequest(proof)).status).toBe(403);
    // alg none (any casing), another typ, a jwk on refresh, crit: 400.
    const jti = await challengeOf();
    const unsigned = (alg: string) =>
      `${Buffer.from(JSON.stringify({ alg, typ: 'dbsc+jwt' })).toString('base64url')}.${Buffer.from(JSON.stringify({ jti })).toString('base64url')}.`;
    for (const bad of [
      unsigned('none'),
      unsigned('NONE'),
      b.device.proof(jti, { header: { typ: 'JWT' } }),
      b.device.proof(jti, { jwk: true }),
      b.device.proof(jti, { header: { crit: ['exp'] } }),
      b.device.proof(jti, { header: { alg: 'HS256' } }),
    ]) {
      expect((await b.refreshRequest(bad)).status).toBe(400);
    }
    // Malformed headers.
    const statuses: number[] = [];
    for (const [id, response] of [
      ['', undefined],
      ['"unterminated', undefined],
      ['x'.repeat(5000), undefined],
      [b.sessionIdentifier, 'not a jwt at all'],
      [b.sessionIdentifier, '("a" "b")'],
      [b.sessionIdentifier, 'a.b'],
      [b.sessionIdentifier, `${'e'.repeat(4100)}.a.b`],
      ['forged.dXNlcg.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', undefined],
    ] as const) {
      statuses.push((await b.refreshRequest(response, id)).status);
    }
    expect(statuses).toEqual([400, 400, 400, 400, 400, 400, 400, 401]);
    // Registration refusals: no cookie, another session's challenge, a wrong authorization.
    const fresh = new DbscBrowser(sample.url);
    await fresh.login();
    const reg = fresh.registration!;
    expect((await request(sample.url).post(reg.path).set('Secure-Session-Response', 'x')).status).toBe(401);
    const foreign = fresh.device.proof(other.registration!.challenge, { jwk: true, authorization: reg.authorization });
    expect((await fresh.register(foreign)).status).toBe(403);
    expect((await fresh.register(fresh.device.proof(reg.challenge, { jwk: true, authorization: 'nope' }))).status).toBe(
      403,
    );
    const signedByOther = fresh.device.proof(reg.challenge, {
      jwk: true,
      authorization: reg.authorization,
      signWith: new TestDevice(),
    });
    expect((await fresh.register(signedByOther)).status).toBe(401);
    // After all of that the genuine registration still works, and the genuine session was never harmed.
    expect((await fresh.register()).status).toBe(200);
    expect((await b.dbscRefresh()).second?.status).toBe(200);
  });

  it('a logged-out bound session ends its DBSC session (401 from the refresh endpoint)', async () => {
    const b = await bound();
    expect((await b.post('/auth/logout')).status).toBe(204);
    expect((await b.refreshRequest()).status).toBe(401);
  });
});

describe('DBSC turned off (the default)', () => {
  let sample: RunningSample;
  beforeAll(async () => {
    sample = await harness.sample(STORES[0]);
  });

  it('logins carry no registration header and the DBSC routes answer 404', async () => {
    const b = new DbscBrowser(sample.url);
    const login = await b.login();
    expect(login.status).toBe(200);
    expect(login.headers['secure-session-registration']).toBeUndefined();
    expect((await request(sample.url).post('/auth/dbsc/register')).status).toBe(404);
    expect((await request(sample.url).post('/auth/dbsc/refresh').set('Sec-Secure-Session-Id', 'x')).status).toBe(404);
  });
});

describe.each(STORES)('DBSC and silent renewal on the $name store', (store) => {
  it('an unbound cookie session is renewed silently; a bound one never is', async () => {
    const clock = new TestClock();
    const sample = await harness.sample(
      store,
      { dbsc: { enabled: true }, accessToken: { ttl: TTL }, silentRenewal: TTL / 2 },
      { clock },
    );
    const plain = new CookieClient(sample.url);
    await plain.login();
    const b = new DbscBrowser(sample.url);
    await b.login();
    await b.register();
    clock.advance(TTL / 2 + 5);
    const renewed = await plain.get('/me');
    expect(renewed.status).toBe(200);
    expect(parseSetCookies(renewed).map((c) => c.name)).toEqual(['__Host-session']);
    const notRenewed = await b.get('/me');
    expect(notRenewed.status).toBe(200);
    expect(parseSetCookies(notRenewed)).toEqual([]);
  });
});
