/**
 * Issue 13: `POST /graphql` of the sample with an HTTP GraphQL client (supertest), on the memory
 * store and a real redis-server. `@Authenticated()` on resolvers, cookie or bearer transport,
 * CSRF for cookie-carried mutations like `POST /notes`, refusals as GraphQL errors with
 * `extensions.code` UNAUTHENTICATED / FORBIDDEN and never a 5xx.
 */
import request from 'supertest';
import { E2eHarness, STORES } from '../e2e/helpers/store-matrix.js';
import { ACCESS_HEADER, accessClaims, newSid, sign } from '../security/support/forge.js';
import { ADMIN, CookieClient, loginHeader } from '../utils/http.js';

const harness = new E2eHarness();
beforeAll(() => harness.start());
afterAll(() => harness.stop());

const ME = '{ me { id email role } }';
const ADD_NOTE = 'mutation { addNote(text: "hello") { id text } }';

interface GqlAnswer {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

describe.each(STORES)('POST /graphql on the $name store', (store) => {
  let url: string;
  beforeAll(async () => {
    url = (await harness.sample(store, { cleanup: { enabled: false } })).url;
  });

  function gql(query: string, headers: Record<string, string> = {}) {
    return request(url).post('/graphql').set(headers).send({ query });
  }

  /** The answer's error code; fails on a 5xx. */
  async function codeOf(res: { status: number; body: GqlAnswer }): Promise<string | undefined> {
    expect(res.status).toBeLessThan(500);
    return res.body.errors?.[0]?.extensions?.code;
  }

  it('bearer: { me } is the session user', async () => {
    const t = await loginHeader(url, ADMIN);
    const res = await gql(ME, { Authorization: `Bearer ${t.accessToken}` }).expect(200);
    expect(res.body).toEqual({ data: { me: { id: 'u-admin', email: 'admin@example.com', role: 'admin' } } });
  });

  it('cookie: a query needs no CSRF token (queries are safe)', async () => {
    const c = new CookieClient(url);
    await c.login();
    const res = await gql(ME, { Cookie: c.cookieHeader() }).expect(200);
    expect((res.body as GqlAnswer).data).toEqual({ me: { id: 'u-alice', email: 'alice@example.com', role: 'user' } });
  });

  it('no session, a malformed, forged or revoked token: UNAUTHENTICATED, never a 5xx', async () => {
    expect(await codeOf(await gql(ME))).toBe('UNAUTHENTICATED');
    expect(await codeOf(await gql(ME, { Authorization: 'Bearer not-a-token' }))).toBe('UNAUTHENTICATED');
    const unsigned = sign({ alg: 'none', typ: 'at+jwt' }, accessClaims('u-alice', newSid()));
    expect(await codeOf(await gql(ME, { Authorization: `Bearer ${unsigned}` }))).toBe('UNAUTHENTICATED');
    // Signed correctly, but for a session the store never had.
    const unknown = sign(ACCESS_HEADER, accessClaims('u-alice', newSid()));
    expect(await codeOf(await gql(ME, { Authorization: `Bearer ${unknown}` }))).toBe('UNAUTHENTICATED');
    const t = await loginHeader(url);
    await request(url).post('/auth/logout').set('Authorization', `Bearer ${t.accessToken}`).expect(204);
    const revoked = await gql(ME, { Authorization: `Bearer ${t.accessToken}` });
    expect(await codeOf(revoked)).toBe('UNAUTHENTICATED');
    expect((revoked.body as GqlAnswer).data ?? null).toBeNull();
  });

  it('cookie mutation without X-CSRF-Token: FORBIDDEN, and nothing is added', async () => {
    const c = new CookieClient(url);
    await c.login();
    const res = await gql(ADD_NOTE, { Cookie: c.cookieHeader() });
    expect(await codeOf(res)).toBe('FORBIDDEN');
    expect((res.body as GqlAnswer).data ?? null).toBeNull();
    const wrong = await gql(ADD_NOTE, { Cookie: c.cookieHeader(), 'X-CSRF-Token': 'forged' });
    expect(await codeOf(wrong)).toBe('FORBIDDEN');
  });

  it('cookie mutation with the session’s CSRF token: done; from a cross-site page even with it: FORBIDDEN', async () => {
    const c = new CookieClient(url);
    await c.login();
    const ok = await gql(ADD_NOTE, { Cookie: c.cookieHeader(), 'X-CSRF-Token': c.csrf }).expect(200);
    expect((ok.body as GqlAnswer).data).toEqual({ addNote: { id: expect.any(Number), text: 'hello' } });
    const cross = await gql(ADD_NOTE, {
      Cookie: c.cookieHeader(),
      'X-CSRF-Token': c.csrf,
      Origin: 'https://evil.example',
    });
    expect(await codeOf(cross)).toBe('FORBIDDEN');
  });

  it('bearer mutation: exempt from CSRF like any bearer request', async () => {
    const t = await loginHeader(url);
    const res = await gql(ADD_NOTE, { Authorization: `Bearer ${t.accessToken}` }).expect(200);
    expect((res.body as GqlAnswer).data).toEqual({ addNote: { id: expect.any(Number), text: 'hello' } });
  });
});
