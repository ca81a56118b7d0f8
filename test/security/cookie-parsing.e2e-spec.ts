/**
 * Cookie header parsing over HTTP (issue 10 item 8, SECURITY.md S-35, S-65), on memory and Redis.
 *
 * - Names and values are trimmed of SP and HTAB only (RFC 6265 §5.2), not of everything JS
 *   `trim()` removes: `\u00a0__Host-session` is another cookie, not the access cookie.
 * - A sibling subdomain can plant a second refresh cookie (`__Secure-` allows `Domain`). When the
 *   name appears more than once the module uses the copy that verifies and belongs to the
 *   session of the presented CSRF token, trying at most a bounded number of copies; a planted copy
 *   no longer locks the user out of refresh.
 */
import request from 'supertest';
import { E2eHarness, STORES } from '../e2e/helpers/store-matrix.js';
import { jwtPayload } from '../e2e/helpers/tokens.js';
import { ALICE, BOB, CookieClient } from '../utils/http.js';
import { setCookie } from '../utils/set-cookie.js';

const harness = new E2eHarness();
beforeAll(() => harness.start());
afterAll(() => harness.stop());

const ACCESS = '__Host-session';
const REFRESH = '__Secure-refresh';
const NBSP = '\u00a0';

async function loggedIn(url: string, user = ALICE): Promise<CookieClient> {
  const c = new CookieClient(url);
  expect((await c.login(user)).status).toBe(200);
  expect(c.access && c.refresh && c.csrf).toBeTruthy();
  return c;
}

/** A cookie refresh with an explicit Cookie header and the client's CSRF token. */
const refreshWithCookie = (c: CookieClient, cookie: string) =>
  request(c.url).post('/auth/refresh').set('Cookie', cookie).set('X-CSRF-Token', c.csrf);

/** The session id inside the access cookie a refresh answer sets. */
const sidOfAnswer = (res: request.Response) => String(jwtPayload(setCookie(res, ACCESS).value).sid);

describe.each(STORES)('cookie parsing on the $name store', (store) => {
  let url: string;
  beforeAll(async () => {
    url = (await harness.sample(store)).url;
  });

  describe('only SP and HTAB are trimmed from names and values (RFC 6265 §5.2)', () => {
    it('a name led by U+00A0 is not the access cookie → 401', async () => {
      const alice = await loggedIn(url);
      const res = await request(url).get('/me').set('Cookie', `${NBSP}${ACCESS}=${alice.access}`);
      expect(res.status).toBe(401);
    });

    it('a name ending in U+00A0 is not the access cookie → 401', async () => {
      const alice = await loggedIn(url);
      expect((await request(url).get('/me').set('Cookie', `${ACCESS}${NBSP}=${alice.access}`)).status).toBe(401);
    });

    it('a value ending in U+00A0 is not the token → 401', async () => {
      const alice = await loggedIn(url);
      expect((await request(url).get('/me').set('Cookie', `${ACCESS}=${alice.access}${NBSP}`)).status).toBe(401);
    });

    it('a refresh cookie name led by U+00A0 is not the refresh cookie → 401, nothing rotates', async () => {
      const alice = await loggedIn(url);
      expect((await refreshWithCookie(alice, `${NBSP}${REFRESH}=${alice.refresh}`)).status).toBe(401);
      expect((await alice.refreshTokens()).status).toBe(200);
    });

    it('spaces and tabs around names and values are trimmed (control) → 200', async () => {
      const alice = await loggedIn(url);
      for (const cookie of [
        ` ${ACCESS} = ${alice.access} `,
        `\t${ACCESS}\t=\t${alice.access}\t`,
        `other=1;  ${ACCESS}=${alice.access}`,
      ]) {
        expect([
          JSON.stringify(cookie.slice(0, 20)),
          (await request(url).get('/me').set('Cookie', cookie)).status,
        ]).toEqual([JSON.stringify(cookie.slice(0, 20)), 200]);
      }
    });
  });

  describe('a planted second refresh cookie does not lock refresh', () => {
    it.each([
      ['garbage first', (mine: string) => `${REFRESH}=planted-garbage; ${REFRESH}=${mine}`],
      ['garbage last', (mine: string) => `${REFRESH}=${mine}; ${REFRESH}=planted-garbage`],
      ['an empty copy first', (mine: string) => `${REFRESH}=; ${REFRESH}=${mine}`],
      ['the same token twice', (mine: string) => `${REFRESH}=${mine}; ${REFRESH}=${mine}`],
    ])('%s → 200, and the own session rotates', async (_name, build) => {
      const alice = await loggedIn(url);
      const sid = String(jwtPayload(alice.access).sid);
      const res = await refreshWithCookie(alice, build(alice.refresh));
      expect(res.status).toBe(200);
      expect(sidOfAnswer(res)).toBe(sid);
      expect(setCookie(res, REFRESH).value).not.toBe(alice.refresh);
    });

    it("the attacker's own valid refresh token planted beside the user's: the user's session (bound to the CSRF token) refreshes, the attacker's is untouched", async () => {
      const alice = await loggedIn(url);
      const mallory = await loggedIn(url, BOB);
      const aliceSid = String(jwtPayload(alice.access).sid);
      for (const cookie of [
        `${REFRESH}=${mallory.refresh}; ${REFRESH}=${alice.refresh}`,
        `${REFRESH}=${alice.refresh}; ${REFRESH}=${mallory.refresh}`,
      ]) {
        const res = await refreshWithCookie(alice, cookie);
        expect(res.status).toBe(200);
        expect(sidOfAnswer(res)).toBe(aliceSid);
        alice.absorb(res);
        // The answer is Alice's: her new access cookie authenticates as her.
        expect((await alice.get('/me')).body.id).toBe('u-alice');
      }
      // Mallory's planted token was never rotated (it would be reuse now if it had been).
      expect((await mallory.refreshTokens()).status).toBe(200);
    });

    it("only the attacker's valid token, with the user's CSRF token → 403, nothing rotates", async () => {
      const alice = await loggedIn(url);
      const mallory = await loggedIn(url, BOB);
      const res = await refreshWithCookie(alice, `${REFRESH}=${mallory.refresh}; ${REFRESH}=planted-garbage`);
      expect(res.status).toBe(403);
      expect((await mallory.refreshTokens()).status).toBe(200);
    });

    it('more copies than the bound (16) → 401 and nothing rotates', async () => {
      const alice = await loggedIn(url);
      const planted = Array.from({ length: 16 }, (_, i) => `${REFRESH}=planted-${i}`);
      const res = await refreshWithCookie(alice, [...planted, `${REFRESH}=${alice.refresh}`].join('; '));
      expect(res.status).toBe(401);
      expect((await alice.refreshTokens()).status).toBe(200);
    });
  });
});
