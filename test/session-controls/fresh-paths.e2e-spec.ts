/**
 * Step-up on both ways into the module: `@Authenticated({ fresh })` (SessionGuard) and Passport
 * (`AuthGuard('session-jwt')` with the same metadata) refuse a stale session alike, and the auth
 * time rides in the validation script's reply: one Redis command per request.
 */
import { Controller, Get, SetMetadata, UseGuards } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  AUTHENTICATED_KEY,
  Authenticated,
  CurrentSession,
  MemorySessionRepository,
  SessionModule,
  type SessionModuleOptions,
  type SessionPrincipal,
  SessionService,
} from '../../lib/index.js';
import { commandCalls, inspector, type RawClient } from '../ops/ops-helpers.js';
import { type RedisProcess, startRedis } from '../utils/redis.js';
import { TEST_SECRET, TestClock, withClock } from '../utils/sample-app.js';
import { redisTestStore, type TestStore } from '../utils/stores.js';
import { bearer } from './harness.js';

const MAX_AGE = 60;

@Controller()
class FreshController {
  @Get('guard/fresh')
  @Authenticated({ fresh: MAX_AGE })
  guard(@CurrentSession() s: SessionPrincipal) {
    return { authTime: s.authTime };
  }

  @Get('guard/default')
  @Authenticated({ fresh: true })
  byDefault(@CurrentSession() s: SessionPrincipal) {
    return { authTime: s.authTime };
  }

  @Get('passport/fresh')
  @UseGuards(AuthGuard('session-jwt'))
  @SetMetadata(AUTHENTICATED_KEY, { fresh: MAX_AGE })
  passport(@CurrentSession() s: SessionPrincipal) {
    return { authTime: s.authTime };
  }
}

let redis: RedisProcess;
let raw: RawClient;
const closers: Array<() => Promise<void>> = [];
beforeAll(async () => {
  redis = await startRedis();
  raw = await inspector(redis.url);
});
afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await raw.disconnect();
  await redis.stop();
});

async function start(options: Partial<SessionModuleOptions>, clock: TestClock) {
  const builder = Test.createTestingModule({
    imports: [SessionModule.forRoot({ secret: TEST_SECRET, freshAge: 120, ...options })],
    controllers: [FreshController],
  });
  const app = (await withClock(builder, clock).compile()).createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  closers.push(() => app.close());
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}` };
}

describe.each(['memory', 'redis'] as const)('step-up on the guard and Passport paths, %s store', (kind) => {
  it('fresh passes, stale is 401 with the RFC 9470 challenge on both paths, re-auth passes again', async () => {
    const clock = new TestClock();
    let store: TestStore | undefined;
    if (kind === 'redis') {
      store = await redisTestStore(redis.url);
      closers.push(store.close);
    }
    const { app, url } = await start({ store: store?.store ?? new MemorySessionRepository() }, clock);
    const sessions = app.get(SessionService);
    const t = await sessions.create({ id: 'u-1', roles: ['user'] });
    const get = (path: string) => request(url).get(path).set(bearer(t.accessToken));
    for (const path of ['/guard/fresh', '/passport/fresh', '/guard/default']) await get(path).expect(200);

    clock.advance(MAX_AGE + 1);
    for (const path of ['/guard/fresh', '/passport/fresh']) {
      const res = await get(path).expect(401);
      expect(res.headers['www-authenticate']).toBe(
        `Bearer error="insufficient_user_authentication", max_age=${MAX_AGE}`,
      );
      expect(res.body).toMatchObject({ error: 'insufficient_user_authentication', maxAge: MAX_AGE });
    }
    // `fresh: true` uses the module's freshAge (120 s here): still fresh.
    await get('/guard/default').expect(200);
    // A cookie request gets the body, and the plain challenge of a cookie 401.
    const cookie = await request(url).get('/guard/fresh').set('Cookie', `__Host-session=${t.accessToken}`).expect(401);
    expect(cookie.body.error).toBe('insufficient_user_authentication');

    const principal = await sessions.authenticate(t.accessToken, 'bearer');
    await sessions.reauthenticate(principal);
    for (const path of ['/guard/fresh', '/passport/fresh']) {
      const res = await get(path).expect(200);
      expect(res.body.authTime).toBe(clock.nowMs);
    }

    if (kind === 'redis') {
      const before = await commandCalls(raw);
      await get('/guard/fresh').expect(200);
      const after = await commandCalls(raw);
      // Commands the scripts run count too; the client sends one command: a plain MGET (no touch due) or EVALSHA.
      const delta = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
      expect(delta('evalsha') + delta('mget')).toBe(1);
      expect(delta('eval')).toBe(0);
    }
  });
});
