/**
 * Real concurrency over HTTP on the memory store and a real redis-server: many requests in
 * flight at once against one session (browser tabs refreshing together, bursts, logout races).
 */
import request from 'supertest';
import type { Response } from 'supertest';
import { ALICE, CookieClient } from '../utils/http.js';
import { setCookie } from '../utils/set-cookie.js';
import { E2eHarness, STORES } from './helpers/store-matrix.js';
import { jwtPayload } from './helpers/tokens.js';

const RACERS = 20;

const harness = new E2eHarness();
beforeAll(() => harness.start());
afterAll(() => harness.stop());

const bearer = (token: string) => `Bearer ${token}`;
const statuses = (responses: Response[]) => responses.map((r) => r.status);
const distinct = <T>(values: T[]) => [...new Set(values)];

describe.each(STORES)('concurrency on the $name store', (store) => {
  let url: string;
  beforeAll(async () => {
    // The default 10 s grace window: the racing refreshes arrive well inside it.
    url = (await harness.sample(store)).url;
  });

  const login = async () => {
    const res = await request(url).post('/auth/login').set('X-Auth-Transport', 'header').send(ALICE).expect(200);
    return res.body as { accessToken: string; refreshToken: string };
  };
  const refresh = (refreshToken: string) => request(url).post('/auth/refresh').send({ refreshToken });
  const me = (token: string) => request(url).get('/me').set('Authorization', bearer(token));

  it(`${RACERS} parallel refreshes with one refresh token all succeed with the same successor`, async () => {
    const tokens = await login();
    const answers = await Promise.all(Array.from({ length: RACERS }, () => refresh(tokens.refreshToken)));
    expect(statuses(answers)).toEqual(Array(RACERS).fill(200));
    const successors = distinct(answers.map((r) => r.body.refreshToken as string));
    expect(successors).toHaveLength(1);
    expect(successors[0]).not.toBe(tokens.refreshToken);

    // Every tab's access token works, and the client carries on with the successor.
    const checks = await Promise.all(answers.map((r) => me(r.body.accessToken)));
    expect(statuses(checks)).toEqual(Array(RACERS).fill(200));
    const next = await refresh(successors[0]);
    expect(next.status).toBe(200);
    expect(next.body.refreshToken).not.toBe(successors[0]);
    expect((await me(next.body.accessToken)).status).toBe(200);
  });

  it(`${RACERS} parallel cookie refreshes (one refresh cookie, one CSRF token) all succeed with the same cookie`, async () => {
    const client = new CookieClient(url);
    await client.login();
    const answers = await Promise.all(Array.from({ length: RACERS }, () => client.post('/auth/refresh')));
    expect(statuses(answers)).toEqual(Array(RACERS).fill(200));
    const cookies = distinct(answers.map((r) => setCookie(r, '__Secure-refresh').value));
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).not.toBe(client.refresh);

    client.absorb(answers[RACERS - 1]);
    expect((await client.get('/me')).status).toBe(200);
    expect((await client.post('/notes', { text: 'after the race' })).status).toBe(201);
    expect((await client.refreshTokens()).status).toBe(200);
  });

  it('the same race on two sessions of one user at once: each gets its own successor, neither is disturbed', async () => {
    const [a, b] = await Promise.all([login(), login()]);
    const racers = Array.from({ length: 2 * RACERS }, (_, i) => refresh(i % 2 === 0 ? a.refreshToken : b.refreshToken));
    const answers = await Promise.all(racers);
    expect(statuses(answers)).toEqual(Array(2 * RACERS).fill(200));
    const forA = distinct(answers.filter((_, i) => i % 2 === 0).map((r) => r.body.refreshToken as string));
    const forB = distinct(answers.filter((_, i) => i % 2 === 1).map((r) => r.body.refreshToken as string));
    expect(forA).toHaveLength(1);
    expect(forB).toHaveLength(1);
    expect(forA[0]).not.toBe(forB[0]);
    expect(jwtPayload(forA[0]).sid).toBe(jwtPayload(a.accessToken).sid);
    expect(jwtPayload(forB[0]).sid).toBe(jwtPayload(b.accessToken).sid);

    const [nextA, nextB] = await Promise.all([refresh(forA[0]), refresh(forB[0])]);
    expect([nextA.status, nextB.status]).toEqual([200, 200]);
    expect(statuses(await Promise.all([me(nextA.body.accessToken), me(nextB.body.accessToken)]))).toEqual([200, 200]);
  });

  it('50 parallel requests with one access token all answer 200 with the same body', async () => {
    const { accessToken } = await login();
    const answers = await Promise.all(Array.from({ length: 50 }, () => me(accessToken)));
    expect(statuses(answers)).toEqual(Array(50).fill(200));
    expect(distinct(answers.map((r) => JSON.stringify(r.body)))).toEqual([
      JSON.stringify({ id: 'u-alice', email: ALICE.email, role: 'user' }),
    ]);
  });

  it('logout racing requests on the same session never yields a 5xx, and the session ends', async () => {
    for (let round = 0; round < 5; round++) {
      const { accessToken, refreshToken } = await login();
      const reads = Array.from({ length: 30 }, (_, i) =>
        i === 15 ? request(url).post('/auth/logout').set('Authorization', bearer(accessToken)) : me(accessToken),
      );
      const refreshes = Array.from({ length: 5 }, () => refresh(refreshToken));
      const answers = await Promise.all([...reads, ...refreshes]);
      const logout = answers[15];
      const others = answers.filter((_, i) => i !== 15);
      expect({ round, logout: logout.status }).toEqual({ round, logout: 204 });
      for (const [i, r] of others.entries()) {
        expect({ round, i, ok: [200, 401].includes(r.status) }).toEqual({ round, i, ok: true });
      }
      expect((await me(accessToken)).status).toBe(401);
      expect((await refresh(refreshToken)).status).toBe(401);
    }
  });

  it('cookie logout racing cookie requests and a logout-all never yields a 5xx', async () => {
    const client = new CookieClient(url);
    await client.login();
    const other = new CookieClient(url); // the same user: logout-all ends `client` too
    await other.login();
    const racers: Array<[Promise<Response>, number[]]> = [
      ...Array.from({ length: 10 }, (): [Promise<Response>, number[]] => [client.get('/me').then(), [200, 401]]),
      [client.post('/auth/logout').then(), [204, 401]],
      ...Array.from({ length: 10 }, (): [Promise<Response>, number[]] => [
        client.post('/notes', { text: 'racing' }).then(),
        [201, 401],
      ]),
      [other.post('/auth/logout-all').then(), [204, 401]],
      ...Array.from({ length: 10 }, (): [Promise<Response>, number[]] => [
        other.get('/auth/sessions').then(),
        [200, 401],
      ]),
    ];
    const answers = await Promise.all(racers.map(([p]) => p));
    answers.forEach((r, i) =>
      expect({ i, status: r.status, allowed: racers[i][1].includes(r.status) }).toMatchObject({ i, allowed: true }),
    );
    expect((await client.get('/me')).status).toBe(401);
    expect((await other.get('/me')).status).toBe(401);
  });
});
