/**
 * The sample's environment contract (DESIGN.md "The sample app", README "The sample app" table):
 * SESSION_ACCESS_TTL, SESSION_IDLE_TIMEOUT, SESSION_ABSOLUTE_TIMEOUT, SESSION_REFRESH_GRACE,
 * SESSION_ALLOWED_ORIGINS and LOGIN_THROTTLE, through the sample's own parsing
 * (sample/session.config.ts `sessionOptionsFromEnv`, sample/login-throttle.ts's @nestjs/throttler options), first as options,
 * then over HTTP. The sample reads them at startup, so each test sets them before it starts its
 * app; every variable is restored after each test.
 */
import type { ExecutionContext } from '@nestjs/common';
import type { ThrottlerModuleOptions } from '@nestjs/throttler';
import request from 'supertest';
import { MemorySessionRepository, type SessionModuleOptions } from '../lib/index.js';
import { resolveSessionOptions } from '../lib/session-options.js';
import { AppController } from '../sample/app.controller.js';
import { AuthController } from '../sample/auth.controller.js';
import { loginThrottleLimit, loginThrottleOptions } from '../sample/login-throttle.js';
import { sessionOptionsFromEnv } from '../sample/session.config.js';
import { jwtPayload } from './e2e/helpers/tokens.js';
import { ALICE, BOB, CookieClient, loginHeader } from './utils/http.js';
import { type RunningSample, startSample, TEST_SECRET, TestClock } from './utils/sample-app.js';
import { setCookie } from './utils/set-cookie.js';

/** Every variable the sample reads; cleared before and restored after each test. */
const ENV_NAMES = [
  'SESSION_SECRET',
  'SESSION_ACCESS_TTL',
  'SESSION_IDLE_TIMEOUT',
  'SESSION_ABSOLUTE_TIMEOUT',
  'SESSION_REFRESH_GRACE',
  'SESSION_ALLOWED_ORIGINS',
  'LOGIN_THROTTLE',
  'COOKIE_SECURE',
  'REDIS_URL',
  'REDIS_CLUSTER_NODES',
] as const;
type EnvName = (typeof ENV_NAMES)[number];

let savedEnv: Partial<Record<EnvName, string | undefined>> = {};
const running: RunningSample[] = [];

beforeEach(() => {
  savedEnv = {};
  for (const name of ENV_NAMES) {
    savedEnv[name] = process.env[name];
    delete process.env[name];
  }
  // A fixed secret keeps the "no SESSION_SECRET" warning out of the output; tests may override it.
  process.env.SESSION_SECRET = TEST_SECRET;
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
  for (const name of ENV_NAMES) {
    const v = savedEnv[name];
    if (v === undefined) delete process.env[name];
    else process.env[name] = v;
  }
});

function setEnv(vars: Partial<Record<EnvName, string>>): void {
  for (const [k, v] of Object.entries(vars)) process.env[k] = v;
}

/**
 * Starts the sample with `vars` in the environment. Only the store (memory) and, when given, the
 * clock are overridden; everything else comes from the sample's own env parsing.
 */
async function sampleWithEnv(vars: Partial<Record<EnvName, string>>, clock?: TestClock): Promise<RunningSample> {
  setEnv(vars);
  const overrides: Partial<SessionModuleOptions> = { store: new MemorySessionRepository() };
  const sample = await startSample(overrides, { clock });
  running.push(sample);
  return sample;
}

/** A clock on a whole second, so lifetimes computed from it are exact. */
const wholeSecondClock = () => new TestClock(Math.floor(Date.now() / 1000) * 1000);

describe('sessionOptionsFromEnv (sample/session.config.ts)', () => {
  it('with none of the variables set: the documented defaults, memory store', async () => {
    const o = await sessionOptionsFromEnv();
    expect(o.secret).toBe(TEST_SECRET);
    expect(o.accessToken).toEqual({ ttl: 900 });
    expect(o.idleTimeout).toBe(1800);
    expect(o.absoluteTimeout).toBe(604800);
    expect(o.refreshGrace).toBe(10);
    expect(o.csrf).toEqual({ allowedOrigins: [] });
    expect(o.cookies).toEqual({ secure: true });
    expect(o.store).toBeUndefined();
  });

  it('empty values count as unset', async () => {
    setEnv({
      SESSION_ACCESS_TTL: '',
      SESSION_IDLE_TIMEOUT: '',
      SESSION_ABSOLUTE_TIMEOUT: '',
      SESSION_REFRESH_GRACE: '',
      SESSION_ALLOWED_ORIGINS: '',
    });
    const o = await sessionOptionsFromEnv();
    expect([o.accessToken?.ttl, o.idleTimeout, o.absoluteTimeout, o.refreshGrace]).toEqual([900, 1800, 604800, 10]);
    expect(o.csrf?.allowedOrigins).toEqual([]);
  });

  it('reads every timing variable and the allowed origins, and the module accepts the result', async () => {
    setEnv({
      SESSION_ACCESS_TTL: '120',
      SESSION_IDLE_TIMEOUT: '300',
      SESSION_ABSOLUTE_TIMEOUT: '3600',
      SESSION_REFRESH_GRACE: '25',
      SESSION_ALLOWED_ORIGINS: ' https://app.example.com , ,https://admin.example.com:8443,',
    });
    const o = await sessionOptionsFromEnv();
    expect(o.accessToken).toEqual({ ttl: 120 });
    expect(o.idleTimeout).toBe(300);
    expect(o.absoluteTimeout).toBe(3600);
    expect(o.refreshGrace).toBe(25);
    // Trimmed, empty entries dropped.
    expect(o.csrf?.allowedOrigins).toEqual(['https://app.example.com', 'https://admin.example.com:8443']);

    const resolved = resolveSessionOptions(o);
    expect(resolved.accessTtl).toBe(120);
    expect(resolved.idleTimeoutMs).toBe(300_000);
    expect(resolved.absoluteTimeoutMs).toBe(3_600_000);
    expect(resolved.graceMs).toBe(25_000);
    expect([...resolved.csrf.allowedOrigins].sort()).toEqual([
      'https://admin.example.com:8443',
      'https://app.example.com',
    ]);
  });

  it('SESSION_REFRESH_GRACE=0 is kept as 0 (not replaced by the default)', async () => {
    setEnv({ SESSION_REFRESH_GRACE: '0' });
    const o = await sessionOptionsFromEnv();
    expect(o.refreshGrace).toBe(0);
    expect(resolveSessionOptions(o).graceMs).toBe(0);
  });

  it.each([
    ['SESSION_ACCESS_TTL', 'abc'],
    ['SESSION_IDLE_TIMEOUT', '-5'],
    ['SESSION_ABSOLUTE_TIMEOUT', 'Infinity'],
    ['SESSION_REFRESH_GRACE', '10s'],
    ['SESSION_IDLE_TIMEOUT', ' '],
    ['SESSION_ACCESS_TTL', '0x10'],
    ['SESSION_ACCESS_TTL', '1e3'],
  ] as const)('%s=%j is refused with a message naming the variable', async (name, value) => {
    setEnv({ [name]: value });
    await expect(sessionOptionsFromEnv()).rejects.toThrow(`${name} must be a whole number of seconds, got "${value}"`);
  });
});

describe('LOGIN_THROTTLE (sample/login-throttle.ts; over HTTP in sample-login-throttle.e2e-spec.ts)', () => {
  const asObject = (o: ThrottlerModuleOptions) => {
    if (Array.isArray(o)) throw new Error('expected the object form of ThrottlerModuleOptions');
    return o;
  };
  // @nestjs/throttler's normalizeIp cannot be loaded under Jest; this one only marks that it was used.
  const normalizeIp = (ip: string) => `n(${ip})`;
  const context = (cls: unknown, handler: unknown) =>
    ({ getClass: () => cls, getHandler: () => handler }) as unknown as ExecutionContext;

  it('unset or empty: 0, the sample loads no throttler', () => {
    expect(loginThrottleLimit()).toBe(0);
    setEnv({ LOGIN_THROTTLE: '' });
    expect(loginThrottleLimit()).toBe(0);
  });

  it('LOGIN_THROTTLE=2: 2 attempts a minute per address + email, 20 per address, on POST /auth/login only', () => {
    setEnv({ LOGIN_THROTTLE: '2' });
    const o = asObject(loginThrottleOptions(loginThrottleLimit(), normalizeIp));
    expect(o.throttlers.map(({ name, ttl, limit }) => ({ name, ttl, limit }))).toEqual([
      { name: 'address', ttl: 60_000, limit: 20 },
      { name: 'default', ttl: 60_000, limit: 2 },
    ]);
    expect(o.skipIf?.(context(AuthController, AuthController.prototype.login))).toBe(false);
    expect(o.skipIf?.(context(AppController, AppController.prototype.me))).toBe(true);
  });

  it('the per-email key is the normalised address plus the lower-cased email, whatever the body holds', async () => {
    const track = asObject(loginThrottleOptions(2, normalizeIp)).throttlers[1].getTracker!;
    const anyContext = context(AuthController, AuthController.prototype.login);
    expect(await track({ ip: '10.0.0.1', body: { email: 'Alice@Example.com' } }, anyContext)).toBe(
      'n(10.0.0.1)|alice@example.com',
    );
    for (const body of [undefined, null, [], 'x', { email: 42 }]) {
      expect(await track({ ip: '10.0.0.1', body }, anyContext)).toBe('n(10.0.0.1)|');
    }
  });

  it('a value that is not a whole number fails startup instead of turning the throttle off', async () => {
    setEnv({ LOGIN_THROTTLE: 'abc' });
    expect(() => loginThrottleLimit()).toThrow('LOGIN_THROTTLE must be a whole number, got "abc"');
    await expect(startSample({ store: new MemorySessionRepository() })).rejects.toThrow(
      'LOGIN_THROTTLE must be a whole number, got "abc"',
    );
  });
});

describe('the environment over HTTP', () => {
  const bearer = (t: string) => `Bearer ${t}`;
  const refresh = (url: string, refreshToken: string) => request(url).post('/auth/refresh').send({ refreshToken });

  it('SESSION_ACCESS_TTL=120: accessTokenExpiresAt, the token exp and the cookie Max-Age are 120 s away', async () => {
    const clock = wholeSecondClock();
    const { url } = await sampleWithEnv({ SESSION_ACCESS_TTL: '120' }, clock);
    const expected = new Date(clock.now() + 120_000).toISOString();

    const login = await loginHeader(url, ALICE);
    expect(login.accessTokenExpiresAt).toBe(expected);
    expect(jwtPayload(login.accessToken).exp).toBe(clock.now() / 1000 + 120);

    const cookieLogin = await request(url).post('/auth/login').send(ALICE).expect(200);
    expect(cookieLogin.body.accessTokenExpiresAt).toBe(expected);
    expect(setCookie(cookieLogin, '__Host-session').attrs['max-age']).toBe('120');

    // The token dies after 120 s (the default 900 would still accept it); still alive just before.
    clock.advance(119);
    await request(url).get('/me').set('Authorization', bearer(login.accessToken)).expect(200);
    clock.advance(2 + 5); // past exp plus the module's 5 s clock tolerance
    await request(url).get('/me').set('Authorization', bearer(login.accessToken)).expect(401);
  });

  it('SESSION_IDLE_TIMEOUT=300: a session unused for 300 s is gone, a used one lives on', async () => {
    const clock = wholeSecondClock();
    const { url } = await sampleWithEnv({ SESSION_ACCESS_TTL: '60', SESSION_IDLE_TIMEOUT: '300' }, clock);
    const used = await loginHeader(url, ALICE);
    const idle = await loginHeader(url, ALICE);

    clock.advance(290);
    const r1 = await refresh(url, used.refreshToken).expect(200);
    clock.advance(20); // 310 s since login: idle is past 300 s; `used` was last active 20 s ago
    await refresh(url, idle.refreshToken).expect(401);
    const r2 = await refresh(url, r1.body.refreshToken).expect(200);
    await request(url).get('/me').set('Authorization', bearer(r2.body.accessToken)).expect(200);
  });

  it('SESSION_ABSOLUTE_TIMEOUT=600: the refresh cookie lasts 600 s and activity cannot extend the session', async () => {
    const clock = wholeSecondClock();
    const { url } = await sampleWithEnv(
      { SESSION_ACCESS_TTL: '60', SESSION_IDLE_TIMEOUT: '300', SESSION_ABSOLUTE_TIMEOUT: '600' },
      clock,
    );
    const cookieLogin = await request(url).post('/auth/login').send(ALICE).expect(200);
    expect(setCookie(cookieLogin, '__Secure-refresh').attrs['max-age']).toBe('600');

    const login = await loginHeader(url, ALICE);
    clock.advance(250);
    const r1 = await refresh(url, login.refreshToken).expect(200);
    clock.advance(250);
    const r2 = await refresh(url, r1.body.refreshToken).expect(200);
    clock.advance(80);
    const r3 = await refresh(url, r2.body.refreshToken).expect(200); // at 580 s: access token valid until 640 s
    await request(url).get('/me').set('Authorization', bearer(r3.body.accessToken)).expect(200);
    clock.advance(20); // 600 s after login, 20 s after the last use: only the absolute limit is reached
    await request(url).get('/me').set('Authorization', bearer(r3.body.accessToken)).expect(401);
    await refresh(url, r3.body.refreshToken).expect(401);
  });

  it('SESSION_REFRESH_GRACE=60: a rotated-out token 30 s later still answers the successor (default 10 s would revoke)', async () => {
    const clock = wholeSecondClock();
    const { url } = await sampleWithEnv({ SESSION_REFRESH_GRACE: '60' }, clock);
    const login = await loginHeader(url, ALICE);
    const first = await refresh(url, login.refreshToken).expect(200);
    clock.advance(30);
    const again = await refresh(url, login.refreshToken).expect(200);
    expect(again.body.refreshToken).toBe(first.body.refreshToken);

    // Past 60 s it is reuse: 401 and the session is revoked.
    clock.advance(31);
    await refresh(url, login.refreshToken).expect(401);
    await request(url).get('/me').set('Authorization', bearer(first.body.accessToken)).expect(401);
  });

  it('SESSION_REFRESH_GRACE=0: replaying a rotated-out token 1 s later is reuse (default 10 s would accept it)', async () => {
    const clock = wholeSecondClock();
    const { url } = await sampleWithEnv({ SESSION_REFRESH_GRACE: '0' }, clock);
    const login = await loginHeader(url, ALICE);
    const first = await refresh(url, login.refreshToken).expect(200);
    clock.advance(1);
    await refresh(url, login.refreshToken).expect(401);
    await refresh(url, first.body.refreshToken).expect(401);
  });

  describe('SESSION_ALLOWED_ORIGINS', () => {
    it('unset: a cookie login from another origin is refused (control)', async () => {
      const { url } = await sampleWithEnv({});
      await request(url).post('/auth/login').set('Origin', 'https://app.example.com').send(ALICE).expect(403);
    });

    it('listed origins may log in and post by cookie; others still may not', async () => {
      const { url } = await sampleWithEnv({
        SESSION_ALLOWED_ORIGINS: 'https://app.example.com, https://admin.example.com',
      });
      const login = await request(url).post('/auth/login').set('Origin', 'https://app.example.com').send(ALICE);
      expect(login.status).toBe(200);
      const alice = new CookieClient(url);
      alice.absorb(login);
      expect(alice.csrf).not.toBe('');

      await alice.post('/notes', { text: 'from admin' }).set('Origin', 'https://admin.example.com').expect(201);
      await alice.post('/notes', { text: 'from app' }).set('Origin', 'https://app.example.com').expect(201);
      await alice.post('/notes', { text: 'from evil' }).set('Origin', 'https://evil.example.com').expect(403);
      await request(url).post('/auth/login').set('Origin', 'https://evil.example.com').send(BOB).expect(403);
    });
  });
});
