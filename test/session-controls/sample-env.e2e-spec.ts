/**
 * The sample's session-control variables (DESIGN.md "Contract additions"): SESSION_MAX_PER_USER,
 * SESSION_CAP_POLICY and SESSION_FRESH_AGE, parsed by sample/session-controls.config.ts, first as
 * options, then over HTTP, then in the built sample as its own process (a bad value stops it).
 */
import request from 'supertest';
import { MemorySessionRepository } from '../../lib/index.js';
import { resolveSessionOptions } from '../../lib/session-options.js';
import { sessionControlsFromEnv } from '../../sample/session-controls.config.js';
import { startBuiltSample } from '../utils/built-sample.js';
import { ALICE, loginHeader } from '../utils/http.js';
import { type RunningSample, startSample, TEST_SECRET, TestClock } from '../utils/sample-app.js';
import { bearer } from './harness.js';

const NAMES = ['SESSION_MAX_PER_USER', 'SESSION_CAP_POLICY', 'SESSION_FRESH_AGE'] as const;
let saved: Record<string, string | undefined> = {};
const running: RunningSample[] = [];

beforeEach(() => {
  saved = {};
  for (const name of NAMES) {
    saved[name] = process.env[name];
    delete process.env[name];
  }
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
  for (const name of NAMES) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

async function sampleWithEnv(vars: Record<string, string>, clock?: TestClock): Promise<RunningSample> {
  Object.assign(process.env, vars);
  const sample = await startSample({ store: new MemorySessionRepository() }, { clock });
  running.push(sample);
  return sample;
}

describe('sessionControlsFromEnv', () => {
  it('unset: the module defaults (cap 50, evict-oldest, fresh age 300 s)', () => {
    const o = resolveSessionOptions({ secret: TEST_SECRET, ...sessionControlsFromEnv() });
    expect([o.maxSessionsPerUser, o.sessionCapPolicy, o.freshAge]).toEqual([50, 'evict-oldest', 300]);
  });

  it('reads each variable; bad values stop startup with the variable named', () => {
    Object.assign(process.env, { SESSION_MAX_PER_USER: '7', SESSION_CAP_POLICY: 'refuse', SESSION_FRESH_AGE: '60' });
    expect(sessionControlsFromEnv()).toEqual({ maxSessionsPerUser: 7, sessionCapPolicy: 'refuse', freshAge: 60 });
    process.env.SESSION_CAP_POLICY = 'lru';
    expect(() => sessionControlsFromEnv()).toThrow('SESSION_CAP_POLICY must be evict-oldest or refuse, got "lru"');
    process.env.SESSION_CAP_POLICY = '';
    process.env.SESSION_MAX_PER_USER = 'many';
    expect(() => sessionControlsFromEnv()).toThrow('SESSION_MAX_PER_USER must be a whole number, got "many"');
    process.env.SESSION_MAX_PER_USER = '';
    process.env.SESSION_FRESH_AGE = '5m';
    expect(() => sessionControlsFromEnv()).toThrow('SESSION_FRESH_AGE must be a whole number of seconds, got "5m"');
  });
});

describe('over HTTP', () => {
  it('SESSION_MAX_PER_USER=2 SESSION_CAP_POLICY=refuse: the third login is 409 session_limit', async () => {
    const { url } = await sampleWithEnv({ SESSION_MAX_PER_USER: '2', SESSION_CAP_POLICY: 'refuse' });
    await loginHeader(url, ALICE);
    await loginHeader(url, ALICE);
    const res = await request(url).post('/auth/login').send(ALICE).expect(409);
    expect(res.body).toMatchObject({ error: 'session_limit' });
  });

  it('SESSION_FRESH_AGE=60: 61 s after login the password route asks for max_age=60', async () => {
    const clock = new TestClock();
    const { url } = await sampleWithEnv({ SESSION_FRESH_AGE: '60' }, clock);
    const t = await loginHeader(url, ALICE);
    clock.advance(61);
    const res = await request(url)
      .post('/account/password')
      .set(bearer(t.accessToken))
      .send({ currentPassword: ALICE.password, newPassword: 'a-new-password-456' })
      .expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer error="insufficient_user_authentication", max_age=60');
  });
});

describe('the built sample', () => {
  it('exits non-zero naming the variable when SESSION_CAP_POLICY is not a policy', async () => {
    await expect(startBuiltSample({ SESSION_SECRET: TEST_SECRET, SESSION_CAP_POLICY: 'oldest' })).rejects.toThrow(
      'SESSION_CAP_POLICY must be evict-oldest or refuse',
    );
  });

  it('serves the new routes: logout-others 204 and reauth 200 over a real process', async () => {
    const sample = await startBuiltSample({ SESSION_SECRET: TEST_SECRET, SESSION_MAX_PER_USER: '10' });
    try {
      const a = await loginHeader(sample.url, ALICE);
      const b = await loginHeader(sample.url, ALICE);
      await request(sample.url).post('/auth/logout-others').set(bearer(b.accessToken)).expect(204);
      await request(sample.url).get('/me').set(bearer(a.accessToken)).expect(401);
      const re = await request(sample.url)
        .post('/auth/reauth')
        .set(bearer(b.accessToken))
        .send({ password: ALICE.password })
        .expect(200);
      expect(new Date(re.body.authTime as string).toISOString()).toBe(re.body.authTime);
    } finally {
      await sample.stop();
    }
  });
});
