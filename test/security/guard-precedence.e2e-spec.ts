/**
 * Guard precedence (issue 10 item 6): the nearest decorator decides. A handler's own
 * `@Authenticated()` / `@SkipSession()` (alias `@Public()`) wins over the class's, the class's
 * wins over the global guard's default (a session); on one level `@Authenticated()` wins over
 * `@SkipSession()` (fail closed). `@SkipCsrf()` on either level drops the CSRF check of an
 * authenticated route and opens nothing. Every combination is driven over HTTP, with
 * `SessionGuard` installed globally and not, on the memory store and a real Redis.
 */
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { getSessionRepositoryToken, type SessionRepository, SessionService } from '../../lib/index.js';
import { STORES, type StoreFactory } from '../e2e/helpers/store-matrix.js';
import { type RedisProcess, startRedis } from '../utils/redis.js';
import { type AuthState, LEVELS, type LevelState, levelId, startPrecedenceApp } from './fixtures/precedence-app.js';

let redis: RedisProcess;
const closers: Array<() => Promise<void>> = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await redis.stop();
});

async function start(store: StoreFactory, globalGuard: boolean): Promise<{ app: INestApplication; url: string }> {
  const s = await store.create(() => redis.url);
  closers.push(s.close);
  const app = await startPrecedenceApp(s.options, globalGuard);
  closers.push(app.close);
  return app;
}

/** What a route asks of a request. */
type Need = 'open' | 'session' | 'admin';

/** The precedence table of the README: the handler's decorator, else the class's, else the global guard. */
const NEED_OF: Record<AuthState, Need | undefined> = {
  none: undefined,
  public: 'open',
  skip: 'open',
  auth: 'session',
  admin: 'admin',
  'skip+admin': 'admin',
};
const need = (globalGuard: boolean, cls: LevelState, handler: LevelState): Need =>
  NEED_OF[handler.auth] ?? NEED_OF[cls.auth] ?? (globalGuard ? 'session' : 'open');

/** Status and the user the handler saw, for the five requests every route gets. */
interface Outcome {
  anonymousGet: string;
  userGet: string;
  userPostWithoutCsrf: string;
  adminPostWithoutCsrf: string;
  adminPostWithCsrf: string;
}

function expected(globalGuard: boolean, cls: LevelState, handler: LevelState): Outcome {
  const n = need(globalGuard, cls, handler);
  const csrfNeeded = n !== 'open' && !cls.skipCsrf && !handler.skipCsrf;
  if (n === 'open') {
    // The guard does not authenticate an open route, so the handler sees no user even with a cookie.
    return {
      anonymousGet: '200 null',
      userGet: '200 null',
      userPostWithoutCsrf: '201 null',
      adminPostWithoutCsrf: '201 null',
      adminPostWithCsrf: '201 null',
    };
  }
  return {
    anonymousGet: '401',
    userGet: n === 'admin' ? '403' : '200 alice',
    userPostWithoutCsrf: n === 'admin' || csrfNeeded ? '403' : '201 alice',
    adminPostWithoutCsrf: csrfNeeded ? '403' : '201 admin',
    adminPostWithCsrf: '201 admin',
  };
}

const show = (res: request.Response): string =>
  res.status < 300 ? `${res.status} ${res.body.user}` : String(res.status);

/** Runs `tasks` with at most `limit` in flight (the machine is small; one request each would take long). */
async function pool<T>(tasks: Array<() => Promise<T>>, limit = 8): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

describe.each(STORES)('guard precedence on the $name store', (store) => {
  describe.each([true, false])('global SessionGuard: %s', (globalGuard) => {
    let url: string;
    let app: INestApplication;
    let alice: { cookie: string; csrf: string };
    let admin: { cookie: string; csrf: string };
    beforeAll(async () => {
      ({ app, url } = await start(store, globalGuard));
      const service = app.get(SessionService);
      const cookieOf = async (id: string, roles: string[]) => {
        const t = await service.create({ id, roles });
        return { cookie: `__Host-session=${t.accessToken}`, csrf: t.csrfToken };
      };
      alice = await cookieOf('alice', ['user']);
      admin = await cookieOf('admin', ['admin']);
    });

    async function outcome(path: string): Promise<Outcome> {
      return {
        anonymousGet: show(await request(url).get(path)),
        userGet: show(await request(url).get(path).set('Cookie', alice.cookie)),
        userPostWithoutCsrf: show(await request(url).post(path).set('Cookie', alice.cookie)),
        adminPostWithoutCsrf: show(await request(url).post(path).set('Cookie', admin.cookie)),
        adminPostWithCsrf: show(
          await request(url).post(path).set('Cookie', admin.cookie).set('X-CSRF-Token', admin.csrf),
        ),
      };
    }

    it.each(LEVELS.map((cls) => [levelId(cls), cls] as const))(
      'class %s × every handler state answers as the table says',
      async (_id, cls) => {
        const rows = await pool(
          LEVELS.map((handler) => async () => {
            const path = `/${levelId(cls)}/${levelId(handler)}`;
            return { path, got: await outcome(path), want: expected(globalGuard, cls, handler) };
          }),
        );
        // One assertion over all rows, so a failure lists every route that disagrees with the table.
        expect(rows.filter((r) => JSON.stringify(r.got) !== JSON.stringify(r.want))).toEqual([]);
      },
    );

    it('one store round trip per authenticated request, even when the global guard and @Authenticated() both apply', async () => {
      const repository = app.get<SessionRepository>(getSessionRepositoryToken());
      // Counts calls into the real repository (each is one round trip on Redis).
      const real = repository.validate;
      let calls = 0;
      repository.validate = (...args) => {
        calls++;
        return real.apply(repository, args);
      };
      try {
        await request(url).get('/none/admin').set('Cookie', admin.cookie).expect(200);
        await request(url).post('/auth/admin').set('Cookie', admin.cookie).set('X-CSRF-Token', admin.csrf).expect(201);
        expect(calls).toBe(2);
      } finally {
        repository.validate = real;
      }
    });
  });
});
