/**
 * The Passport path has the guard's checks (issue 10 item 7; SECURITY.md S-12, S-38–S-41, S-44,
 * S-49). Every hostile case runs through both ways into the module — `@Authenticated()`
 * (`SessionGuard`) and `@UseGuards(AuthGuard('session-jwt'))` — and must get the same answer,
 * on the memory store and a real Redis; a few cases also on Fastify.
 */
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import {
  getSessionRepositoryToken,
  MemorySessionRepository,
  type SessionRepository,
  SessionService,
} from '../../lib/index.js';
import { STORES, type StoreFactory } from '../e2e/helpers/store-matrix.js';
import { type RedisProcess, startRedis } from '../utils/redis.js';
import { TestClock } from '../utils/sample-app.js';
import { parseSetCookies } from '../utils/set-cookie.js';
import { startPathsApp } from './fixtures/paths-app.js';

let redis: RedisProcess;
const closers: Array<() => Promise<void>> = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await redis.stop();
});

async function start(
  store: StoreFactory,
  extra: Parameters<typeof startPathsApp>[0] = {},
  adapter?: 'express' | 'fastify',
  clock?: TestClock,
) {
  const s = await store.create(() => redis.url);
  closers.push(s.close);
  const app = await startPathsApp({ ...s.options, ...extra }, adapter, clock);
  closers.push(app.close);
  return app;
}

interface Session {
  sessionId: string;
  accessToken: string;
  cookie: string;
  csrf: string;
}

async function session(app: INestApplication, id: string, roles: string[]): Promise<Session> {
  const t = await app.get(SessionService).create({ id, roles });
  return {
    sessionId: t.sessionId,
    accessToken: t.accessToken,
    cookie: `__Host-session=${t.accessToken}`,
    csrf: t.csrfToken,
  };
}

const EVIL = 'https://evil.example';

/** The headers SessionGuard puts on every answer of an authenticated route, refusals included. */
function expectProtected(res: request.Response): void {
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.headers['pragma']).toBe('no-cache');
  expect(res.headers['x-content-type-options']).toBe('nosniff');
}

describe.each(STORES)('guard and Passport paths on the $name store', (store) => {
  let app: INestApplication;
  let url: string;
  let alice: Session;
  let aliceElsewhere: Session;
  let admin: Session;
  beforeAll(async () => {
    ({ app, url } = await start(store));
    alice = await session(app, 'alice', ['user']);
    aliceElsewhere = await session(app, 'alice', ['user']);
    admin = await session(app, 'admin', ['admin']);
  });

  describe.each(['guard', 'passport'])('/%s', (path) => {
    const at = (route: string) => `/${path}/${route}`;

    it('@CurrentUser() is { id, roles }, @CurrentSession() the principal; no-store and nosniff', async () => {
      const res = await request(url).get(at('me')).set('Cookie', alice.cookie).expect(200);
      expect(res.body.user).toEqual({ id: 'alice', roles: ['user'] });
      expect(res.body.session).toEqual({
        id: alice.sessionId,
        userId: 'alice',
        roles: ['user'],
        tokenExpiresAt: expect.any(Number),
        transport: 'cookie',
        authTime: expect.any(Number),
      });
      expectProtected(res);
    });

    it('a refusal carries no-store and nosniff too', async () => {
      const res = await request(url).get(at('me')).expect(401);
      expectProtected(res);
    });

    it("cookie POST with the session's CSRF token → 201", async () => {
      const res = await request(url)
        .post(at('notes'))
        .set('Cookie', alice.cookie)
        .set('X-CSRF-Token', alice.csrf)
        .expect(201);
      expect(res.body.user).toEqual({ id: 'alice', roles: ['user'] });
    });

    it.each([
      ['Origin: https://evil.example, valid token', { Origin: EVIL }, true],
      ['Sec-Fetch-Site: cross-site, valid token', { 'Sec-Fetch-Site': 'cross-site' }, true],
      ['Origin: null, valid token', { Origin: 'null' }, true],
      ['Origin: https://evil.example, no token', { Origin: EVIL }, false],
      ['no token', {}, false],
      ['Authorization: Basic beside the cookie, no token', { Authorization: 'Basic YTpi' }, false],
    ] as Array<[string, Record<string, string>, boolean]>)(
      'cookie POST, %s → 403',
      async (_name, headers, withToken) => {
        const req = request(url).post(at('notes')).set('Cookie', alice.cookie).set(headers);
        if (withToken) req.set('X-CSRF-Token', alice.csrf);
        const res = await req.expect(403);
        expect(res.body.message).toMatch(/CSRF/);
        expectProtected(res);
      },
    );

    it.each([
      ['another session of the same user', () => aliceElsewhere.csrf],
      ['another user', () => admin.csrf],
      ['garbage', () => 'not-a-token'],
    ])('cookie POST with the CSRF token of %s → 403', async (_name, token) => {
      await request(url).post(at('notes')).set('Cookie', alice.cookie).set('X-CSRF-Token', token()).expect(403);
    });

    it('a bearer POST is exempt from CSRF, whatever Origin says', async () => {
      const res = await request(url)
        .post(at('notes'))
        .set('Authorization', `Bearer ${alice.accessToken}`)
        .set('Origin', EVIL)
        .expect(201);
      expect(res.body.session.transport).toBe('bearer');
    });

    it('@SkipCsrf() opens the CSRF check of its route only', async () => {
      await request(url).post(at('skip')).set('Cookie', alice.cookie).set('Origin', EVIL).expect(201);
      await request(url).post(at('notes')).set('Cookie', alice.cookie).set('Origin', EVIL).expect(403);
    });

    it('roles come from the session: user → 403 (bearer: insufficient_scope), admin → 200', async () => {
      expectProtected(await request(url).get(at('admin')).set('Cookie', alice.cookie).expect(403));
      const bearer = await request(url)
        .get(at('admin'))
        .set('Authorization', `Bearer ${alice.accessToken}`)
        .expect(403);
      expect(bearer.headers['www-authenticate']).toBe('Bearer error="insufficient_scope"');
      const ok = await request(url).get(at('admin')).set('Cookie', admin.cookie).expect(200);
      expect(ok.body.user).toEqual({ id: 'admin', roles: ['admin'] });
    });

    it('a revoked session → 401 on the next request', async () => {
      const victim = await session(app, 'carol', ['user']);
      await request(url).get(at('me')).set('Cookie', victim.cookie).expect(200);
      await app.get(SessionService).revoke('carol', victim.sessionId);
      await request(url).get(at('me')).set('Cookie', victim.cookie).expect(401);
      await request(url).get(at('me')).set('Authorization', `Bearer ${victim.accessToken}`).expect(401);
    });
  });

  it('Passport: req.user is the user { id, roles }, never the session', async () => {
    const res = await request(url).get('/passport/me').set('Authorization', `Bearer ${alice.accessToken}`).expect(200);
    expect(res.body.reqUser).toEqual({ id: 'alice', roles: ['user'] });
    expect(JSON.stringify(res.body.reqUser)).not.toContain(alice.sessionId);
  });

  it('Passport and @Authenticated() on one route: one store round trip, both rule sets', async () => {
    const repository = app.get<SessionRepository>(getSessionRepositoryToken());
    const real = repository.validate;
    let calls = 0;
    // Counts calls into the real repository (each is one round trip on Redis).
    repository.validate = (...args) => {
      calls++;
      return real.apply(repository, args);
    };
    try {
      await request(url).get('/passport/both').set('Cookie', admin.cookie).expect(200);
      expect(calls).toBe(1);
      await request(url).get('/passport/both').set('Cookie', alice.cookie).expect(403);
    } finally {
      repository.validate = real;
    }
  });
});

describe.each(STORES)('silent renewal on the $name store', (store) => {
  it.each(['/guard/me', '/passport/me', '/passport/both'])(
    '%s renews a nearly expired access cookie exactly once',
    async (route) => {
      const clock = new TestClock();
      const { app, url } = await start(store, { accessToken: { ttl: 900 }, silentRenewal: 600 }, undefined, clock);
      const s = await session(app, 'admin', ['admin']);
      const early = await request(url).get(route).set('Cookie', s.cookie).expect(200);
      expect(parseSetCookies(early)).toEqual([]);
      clock.advance(400);
      const late = await request(url).get(route).set('Cookie', s.cookie).expect(200);
      const renewed = parseSetCookies(late).filter((c) => c.name === '__Host-session');
      expect(renewed).toHaveLength(1);
      expect(renewed[0]?.value).not.toBe(s.accessToken);
    },
  );
});

describe.each(['guard', 'passport'])('/%s with requireHttps', (path) => {
  it('plain HTTP → 403 "HTTPS is required", even with a valid bearer token', async () => {
    const { app, url } = await start(STORES[0], { requireHttps: true });
    const s = await session(app, 'alice', ['user']);
    const res = await request(url).get(`/${path}/me`).set('Authorization', `Bearer ${s.accessToken}`).expect(403);
    expect(res.body.message).toBe('HTTPS is required');
  });
});

describe('Passport path on Fastify', () => {
  let app: INestApplication;
  let url: string;
  beforeAll(async () => {
    ({ app, url } = await start(
      {
        name: 'memory',
        create: async () => ({ options: { store: new MemorySessionRepository() }, close: async () => undefined }),
      },
      {},
      'fastify',
    ));
  });

  it('same headers, CSRF and decorator data as on Express', async () => {
    const alice = await session(app, 'alice', ['user']);
    const me = await request(url).get('/passport/me').set('Cookie', alice.cookie).expect(200);
    expect(me.body.user).toEqual({ id: 'alice', roles: ['user'] });
    expect(me.body.reqUser).toEqual({ id: 'alice', roles: ['user'] });
    expectProtected(me);
    expectProtected(await request(url).get('/passport/me').expect(401));
    await request(url)
      .post('/passport/notes')
      .set('Cookie', alice.cookie)
      .set('X-CSRF-Token', alice.csrf)
      .set('Origin', EVIL)
      .expect(403);
    await request(url).post('/passport/notes').set('Cookie', alice.cookie).expect(403);
    await request(url).post('/passport/notes').set('Cookie', alice.cookie).set('X-CSRF-Token', alice.csrf).expect(201);
    await request(url).get('/passport/admin').set('Cookie', alice.cookie).expect(403);
  });
});
