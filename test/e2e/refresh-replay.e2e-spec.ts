/**
 * Issue 10 items 1 and 4 over HTTP, on the memory store and a real redis-server: a refresh token
 * replayed inside the grace window answers the very same successor (refresh AND access token)
 * with one `session_renewed` per generation, a tab up to 3 rotations behind gets the current
 * successor, and parallel refreshes of one token never revoke the session.
 */
import request from 'supertest';
import type { SessionAuditEvent } from '../../lib/index.js';
import { loginHeader } from '../utils/http.js';
import type { RunningSample } from '../utils/sample-app.js';
import { E2eHarness, STORES } from './helpers/store-matrix.js';

const REPLAYS = 40;

describe.each(STORES)('refresh replays and generations on the $name store', (store) => {
  const harness = new E2eHarness();
  const events: SessionAuditEvent[] = [];
  let sample: RunningSample;

  beforeAll(async () => {
    await harness.start();
    sample = await harness.sample(store, { refreshGrace: 10, onEvent: (e) => events.push(e) });
  });
  afterAll(() => harness.stop());
  beforeEach(() => events.splice(0));

  const refresh = (refreshToken: string) => request(sample.url).post('/auth/refresh').send({ refreshToken });
  const me = (token: string) => request(sample.url).get('/me').set('Authorization', `Bearer ${token}`);
  const count = (type: string) => events.filter((e) => e.type === type).length;

  it(`${REPLAYS} parallel replays of the previous token answer the identical successor, and one session_renewed`, async () => {
    const t = await loginHeader(sample.url);
    const first = await refresh(t.refreshToken).expect(200);
    const replays = await Promise.all(Array.from({ length: REPLAYS }, () => refresh(t.refreshToken)));
    for (const r of replays) {
      expect(r.status).toBe(200);
      expect(r.body).toEqual(first.body);
    }
    expect(count('session_renewed')).toBe(1);
    expect(count('authn_token_reuse')).toBe(0);
    await me(first.body.accessToken).expect(200);
    await refresh(first.body.refreshToken).expect(200);
  });

  it(`${REPLAYS} parallel refreshes of the current token: all 200 with one answer, one event, the session lives`, async () => {
    const t = await loginHeader(sample.url);
    const answers = await Promise.all(Array.from({ length: REPLAYS }, () => refresh(t.refreshToken)));
    expect(answers.map((r) => r.status)).toEqual(Array(REPLAYS).fill(200));
    expect(new Set(answers.map((r) => r.body.refreshToken)).size).toBe(1);
    expect(new Set(answers.map((r) => r.body.accessToken)).size).toBe(1);
    expect(count('session_renewed')).toBe(1);
    expect(count('session_revoked')).toBe(0);
    await me(answers[0].body.accessToken).expect(200);
  });

  it('a tab 2 and 3 rotations behind, inside the window, gets the current successor; 4 behind is theft', async () => {
    const t = await loginHeader(sample.url);
    const chain = [t.refreshToken];
    let latest: { refreshToken: string; accessToken: string } = t;
    for (let i = 0; i < 3; i++) {
      latest = (await refresh(latest.refreshToken).expect(200)).body;
      chain.push(latest.refreshToken);
    }
    for (const behind of [chain[0], chain[1]]) {
      const r = await refresh(behind).expect(200);
      expect(r.body.refreshToken).toBe(latest.refreshToken);
      expect(r.body.accessToken).toBe(latest.accessToken);
    }
    expect(count('authn_token_reuse')).toBe(0);
    await me(latest.accessToken).expect(200);

    latest = (await refresh(latest.refreshToken).expect(200)).body;
    await refresh(chain[0]).expect(401);
    expect(count('authn_token_reuse')).toBe(1);
    await me(latest.accessToken).expect(401);
  });
});
