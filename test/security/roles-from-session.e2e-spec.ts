/**
 * Roles come from the server-side session, never from token claims (SECURITY.md S-12).
 *
 * Tokens here are validly signed with the sample's real access key (HKDF of TEST_SECRET, as
 * test/security/support/forge.ts derives it) and the exact header the module issues, for a live
 * session, so the only thing that differs from a genuine token is the extra role claim. The module
 * ignores unknown claims (it does not refuse them), so such a token authenticates — and still
 * gets no role it does not have in its session.
 */
import request from 'supertest';
import { ADMIN, ALICE, loginHeader } from '../utils/http.js';
import { type RunningSample, TestClock } from '../utils/sample-app.js';
import { E2eHarness, STORES } from '../e2e/helpers/store-matrix.js';
import { ACCESS_HEADER, accessClaims, payloadOf, sign } from './support/forge.js';

const harness = new E2eHarness();
beforeAll(() => harness.start());
afterAll(() => harness.stop());

const bearer = (token: string) => `Bearer ${token}`;

/** Claims that try to grant the admin role. */
const ESCALATIONS: Array<[string, Record<string, unknown>]> = [
  ['roles: ["admin"]', { roles: ['admin'] }],
  ['role: "admin"', { role: 'admin' }],
  ['roles: "admin" and role: "admin"', { roles: 'admin', role: 'admin' }],
];

describe.each(STORES)('roles from the session on the $name store (S-12)', (store) => {
  let sample: RunningSample;
  let url: string;
  let clock: TestClock;
  beforeAll(async () => {
    clock = new TestClock();
    sample = await harness.sample(store, {}, { clock });
    url = sample.url;
  });

  /** A live header-transport session and the claims of its real access token. */
  async function session(user = ALICE) {
    const login = await loginHeader(url, user);
    const claims = payloadOf(login.accessToken);
    return { login, sub: String(claims.sub), sid: String(claims.sid) };
  }

  /** An access token for (sub, sid) signed like the module's own, with `extra` claims added. */
  const forge = (sub: string, sid: string, extra: Record<string, unknown> = {}) =>
    sign(
      ACCESS_HEADER,
      accessClaims(sub, sid, {
        iat: Math.floor(clock.now() / 1000),
        exp: Math.floor(clock.now() / 1000) + 600,
        ...extra,
      }),
    );

  it('issued access tokens carry no role claim at all', async () => {
    for (const user of [ALICE, ADMIN]) {
      const { login } = await session(user);
      expect(Object.keys(payloadOf(login.accessToken)).sort()).toEqual(['exp', 'iat', 'jti', 'sid', 'sub', 'typ']);
    }
  });

  it('control: a re-signed token for a live session is accepted, so the forging matches the real key', async () => {
    const { login, sub, sid } = await session();
    // The same header segment byte for byte as a real token.
    expect(sign(ACCESS_HEADER, {}).split('.')[0]).toBe(login.accessToken.split('.')[0]);
    const res = await request(url)
      .get('/me')
      .set('Authorization', bearer(forge(sub, sid)));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: sub, email: ALICE.email, role: 'user' });
    expect(
      (
        await request(url)
          .get('/admin/stats')
          .set('Authorization', bearer(forge(sub, sid)))
      ).status,
    ).toBe(403);
  });

  it.each(ESCALATIONS)('a user session token with %s: authenticates, but /admin/stats → 403', async (_label, extra) => {
    const { sub, sid } = await session();
    const token = forge(sub, sid, extra);
    expect(payloadOf(token)).toMatchObject(extra);
    // Unknown claims are ignored, not refused: the token is valid for the session...
    const me = await request(url).get('/me').set('Authorization', bearer(token));
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: sub, role: 'user' });
    // ...and its claim grants nothing.
    const stats = await request(url).get('/admin/stats').set('Authorization', bearer(token));
    expect(stats.status).toBe(403);
    expect(stats.body).not.toHaveProperty('users');
  });

  it.each(ESCALATIONS)('the same forged %s in the access cookie → 403 too', async (_label, extra) => {
    const { sub, sid } = await session();
    const res = await request(url)
      .get('/admin/stats')
      .set('Cookie', `__Host-session=${forge(sub, sid, extra)}`);
    expect(res.status).toBe(403);
  });

  it('claiming the admin as sub on a user session is refused (sub must match the session) → 401', async () => {
    const admin = await session(ADMIN);
    const { sid } = await session();
    const res = await request(url)
      .get('/admin/stats')
      .set('Authorization', bearer(forge(admin.sub, sid, { roles: ['admin'], role: 'admin' })));
    expect(res.status).toBe(401);
  });

  it('claims cannot take a role away either: an admin session token with roles: [] / role: "user" → 200', async () => {
    const { sub, sid } = await session(ADMIN);
    for (const extra of [{ roles: [] }, { role: 'user' }, { roles: ['user'], role: 'user' }]) {
      const res = await request(url)
        .get('/admin/stats')
        .set('Authorization', bearer(forge(sub, sid, extra)));
      expect([JSON.stringify(extra), res.status]).toEqual([JSON.stringify(extra), 200]);
    }
  });

  it('a role claim never outlives the session: after logout the forged admin-claim token → 401', async () => {
    const { login, sub, sid } = await session();
    await request(url).post('/auth/logout').set('Authorization', bearer(login.accessToken)).expect(204);
    const res = await request(url)
      .get('/admin/stats')
      .set('Authorization', bearer(forge(sub, sid, { roles: ['admin'] })));
    expect(res.status).toBe(401);
  });
});
