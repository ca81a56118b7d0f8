/**
 * LOGIN_THROTTLE (DESIGN.md "The sample app": logins are not throttled unless it is set), on the
 * built sample as a process: the sample throttles with @nestjs/throttler, which Jest's module
 * runtime cannot load in-process (sample/login-throttle.ts says why). Counted per address + email
 * and per address, in the process, whatever the session store: run on memory and on Redis.
 */
import request from 'supertest';
import { ALICE, BOB } from './utils/http.js';
import { type SampleProcess, startBuiltSample } from './utils/built-sample.js';
import { type RedisProcess, startRedis } from './utils/redis.js';
import { TEST_SECRET } from './utils/sample-app.js';

const wrong = (email: string) => ({ email, password: 'not-the-password-000' });

let redis: RedisProcess;
const procs: SampleProcess[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await redis?.stop();
});

describe.each([
  { store: 'memory', env: (): Record<string, string> => ({}) },
  { store: 'redis', env: (): Record<string, string> => ({ REDIS_URL: redis.url }) },
])('the login throttle of the built sample ($store store)', ({ store, env }) => {
  async function sample(vars: Record<string, string>): Promise<string> {
    const p = await startBuiltSample({ SESSION_SECRET: TEST_SECRET, ...env(), ...vars });
    procs.push(p);
    await request(p.url)
      .get('/health')
      .expect(200, {
        status: 'ok',
        store,
        adapter: 'express',
        ...(store === 'memory' ? {} : { redisClient: 'redis-yet' }),
      });
    return p.url;
  }

  it('unset: failed logins are never throttled (control)', async () => {
    const url = await sample({});
    for (let i = 0; i < 12; i += 1) await request(url).post('/auth/login').send(wrong(ALICE.email)).expect(401);
    await request(url).post('/auth/login').send(ALICE).expect(200);
  });

  it('LOGIN_THROTTLE=2: the third login after two failures → 429 with Retry-After, even with the right password; other emails unaffected', async () => {
    const url = await sample({ LOGIN_THROTTLE: '2' });
    await request(url).post('/auth/login').send(wrong(ALICE.email)).expect(401);
    await request(url).post('/auth/login').send(wrong(ALICE.email)).expect(401);
    const throttled = await request(url).post('/auth/login').send(wrong(ALICE.email)).expect(429);
    expect(throttled.headers['cache-control']).toBe('no-store'); // an /auth/* answer (DESIGN.md)
    const retryAfter = Number(throttled.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    await request(url).post('/auth/login').send(ALICE).expect(429);
    // Keyed by address + lower-cased email: a case variant is the same key.
    await request(url)
      .post('/auth/login')
      .send({ ...ALICE, email: ALICE.email.toUpperCase() })
      .expect(429);
    await request(url).post('/auth/login').send(BOB).expect(200);
  });

  it('LOGIN_THROTTLE=1: only the login is counted; other routes, refresh included, are never throttled', async () => {
    const url = await sample({ LOGIN_THROTTLE: '1' });
    const login = await request(url).post('/auth/login').set('X-Auth-Transport', 'header').send(ALICE).expect(200);
    let refreshToken = login.body.refreshToken as string;
    for (let i = 0; i < 5; i += 1) {
      await request(url).get('/health').expect(200);
      await request(url).get('/me').set('Authorization', `Bearer ${login.body.accessToken}`).expect(200);
      const r = await request(url).post('/auth/refresh').send({ refreshToken }).expect(200);
      refreshToken = r.body.refreshToken;
    }
    await request(url).post('/auth/login').send(ALICE).expect(429);
  });

  it('LOGIN_THROTTLE=1: one address spraying many emails is cut off after 10 attempts, for every email', async () => {
    const url = await sample({ LOGIN_THROTTLE: '1' });
    for (let i = 0; i < 10; i += 1)
      await request(url)
        .post('/auth/login')
        .send(wrong(`user-${i}@example.com`))
        .expect(401);
    await request(url).post('/auth/login').send(wrong('user-10@example.com')).expect(429);
    // A real user behind that address waits too: the address, not only the email, is throttled.
    await request(url).post('/auth/login').send(BOB).expect(429);
  });
});

it('LOGIN_THROTTLE that is not a whole number: the sample exits non-zero naming the variable', async () => {
  await expect(startBuiltSample({ SESSION_SECRET: TEST_SECRET, LOGIN_THROTTLE: '5/min' })).rejects.toThrow(
    /exited: [\s\S]*LOGIN_THROTTLE must be a whole number, got "5\/min"/,
  );
});
